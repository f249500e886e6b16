package main

import (
	"crypto/rand"
	"fmt"
	"strings"

	dsarv1 "github.com/zoomdsar/zoom-dsar/proto/dsar/v1"
)

// runCreate creates an access request and prints its id alone, so that a
// script can capture it: id=$(dsarctl create -account acme jane@example.com).
func runCreate(e *env, args []string) error {
	fs := e.newFlags("create", "EMAIL", true)
	account := fs.String("account", "", "Zoom `account` as named in dsard's accounts file")
	key := fs.String("idempotency-key", "", "`key` that makes a retry return the same request; default: a random key")
	reg := fs.String("regulation", "gdpr", "`regulation`: gdpr or ccpa")
	pos, err := e.parseEnv(fs, args, 1, 1, "account")
	if err != nil {
		return err
	}
	var r dsarv1.Regulation
	switch strings.ToLower(*reg) {
	case "gdpr":
		r = dsarv1.Regulation_REGULATION_GDPR
	case "ccpa":
		r = dsarv1.Regulation_REGULATION_CCPA
	default:
		return usagef("-regulation %q: want gdpr or ccpa", *reg)
	}
	if *account == "" {
		return usagef("create: -account is required (or DSAR_ACCOUNT)")
	}
	if *key == "" {
		*key = "dsarctl-" + rand.Text()
	}
	cc, c, err := e.conn.dial()
	if err != nil {
		return err
	}
	defer cc.Close()
	resp, err := c.CreateAccessRequest(e.ctx, &dsarv1.CreateAccessRequestRequest{
		Email: pos[0], Account: *account, IdempotencyKey: *key, Regulation: r,
	})
	if err != nil {
		return rpcError("create", err)
	}
	_, err = fmt.Fprintln(e.stdout, resp.GetAccessRequest().GetId())
	return err
}
