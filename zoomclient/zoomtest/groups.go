package zoomtest

import "net/http"

// listIMGroups is GET /im/groups: every IM directory group of the
// account in one answer (the operation has no pagination); paid accounts
// only, 400/200 otherwise [MTG, TC26].
func (e *Emulator) listIMGroups(c *call) {
	if c.ai.a.Plan == Free {
		c.fail(&zoomError{http.StatusBadRequest, 200, "Only available for Paid account."})
		return
	}
	c.reply(c.ai.x.imGroups)
}
