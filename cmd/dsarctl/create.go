package main

import (
	"crypto/rand"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	dsarv1 "github.com/zoomdsar/zoom-dsar/proto/dsar/v1"
)

// newCreate creates an access request. In a table it prints the id alone,
// so that a script can capture it: id=$(dsarctl create -account acme jane@example.com).
func newCreate(e *env) *cobra.Command {
	var account, key, reg string
	cmd := command("create -account ACCOUNT EMAIL", "create an access request; prints its id", 1, 1, nil)
	cmd.Long = "create an access request for the data subject EMAIL; prints its id alone\n(-o wide: the request as get shows it; -o json: the AccessRequest)"
	out := outputFlag(cmd)
	cmd.Flags().StringVar(&account, "account", "", "Zoom `account` as named in dsard's accounts file")
	cmd.Flags().StringVar(&key, "idempotency-key", "", "`key` that makes a retry return the same request; default: a random key")
	cmd.Flags().StringVar(&reg, "regulation", "gdpr", "`regulation`: gdpr or ccpa")
	e.withEnv(cmd.Flags().Lookup("account"))
	cmd.RegisterFlagCompletionFunc("regulation", cobra.FixedCompletions([]string{"gdpr", "ccpa"}, cobra.ShellCompDirectiveNoFileComp))
	cmd.RunE = func(_ *cobra.Command, args []string) error {
		var r dsarv1.Regulation
		switch strings.ToLower(reg) {
		case "gdpr":
			r = dsarv1.Regulation_REGULATION_GDPR
		case "ccpa":
			r = dsarv1.Regulation_REGULATION_CCPA
		default:
			return usagef("-regulation %q: want gdpr or ccpa", reg)
		}
		if account == "" {
			return usagef("create: -account is required (or DSAR_ACCOUNT)")
		}
		if key == "" {
			key = "dsarctl-" + rand.Text()
		}
		return e.call(func(c dsarv1.AccessRequestServiceClient) error {
			resp, err := c.CreateAccessRequest(e.ctx, &dsarv1.CreateAccessRequestRequest{
				Email: args[0], Account: account, IdempotencyKey: key, Regulation: r,
			})
			if err != nil {
				return rpcError("create", err)
			}
			return e.printRequest(*out, resp.GetAccessRequest(), func() error {
				_, err := fmt.Fprintln(e.stdout, resp.GetAccessRequest().GetId())
				return err
			})
		})
	}
	return cmd
}

// printRequest prints a request as -o says; table is the command's own
// table.
func (e *env) printRequest(f format, r *dsarv1.AccessRequest, table func() error) error {
	switch f {
	case formatJSON:
		return writeJSON(e.stdout, jsonIndented, r)
	case formatWide:
		return e.writeRequest(e.stdout, r, true)
	}
	return table()
}
