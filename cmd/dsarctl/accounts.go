package main

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"google.golang.org/protobuf/encoding/protojson"

	dsarv1 "github.com/zoomdsar/zoom-dsar/proto/dsar/v1"
)

// runAccounts shows and steers the Zoom accounts:
//
//	dsarctl accounts                  every account, its check and buckets
//	dsarctl accounts check NAME       check NAME now; exit 1 if anything is wrong
//	dsarctl accounts reset-quota NAME forget NAME's Daily-limit parks (audited)
//	dsarctl accounts authorize NAME   authorize NAME's OAuth app (audited)
func runAccounts(e *env, args []string) error {
	verb := "list"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		verb, args = args[0], args[1:]
	}
	fs := e.newFlags("accounts "+verb, accountsArgs[verb], true)
	asJSON := fs.Bool("json", false, "print the API's Account messages as JSON")
	var code *string
	if verb == "authorize" {
		code = fs.String("code", "", "the code parameter of the address Zoom redirected to, when dsarctl cannot receive it itself (\"-\": read it from stdin)")
	}
	if _, ok := accountsArgs[verb]; !ok {
		return usagef("accounts: unknown verb %q; want list, check NAME, reset-quota NAME or authorize NAME", verb)
	}
	n := 1
	if verb == "list" {
		n = 0
	}
	pos, c, done, err := e.connect(fs, args, n, n)
	if err != nil {
		return err
	}
	defer done()
	var accts []*dsarv1.Account
	switch verb {
	case "list":
		resp, err := c.ListAccounts(e.ctx, &dsarv1.ListAccountsRequest{})
		if err != nil {
			return rpcError("accounts", err)
		}
		accts = resp.GetAccounts()
		if len(accts) == 0 && !*asJSON {
			fmt.Fprintln(e.stdout, "no Zoom account is configured (dsard -accounts FILE)")
			return nil
		}
	case "check":
		resp, err := c.CheckAccount(e.ctx, &dsarv1.CheckAccountRequest{Name: pos[0]})
		if err != nil {
			return rpcError("accounts check", err)
		}
		accts = []*dsarv1.Account{resp.GetAccount()}
	case "reset-quota":
		resp, err := c.ResetAccountQuota(e.ctx, &dsarv1.ResetAccountQuotaRequest{Name: pos[0]})
		if err != nil {
			return rpcError("accounts reset-quota", err)
		}
		if b := resp.GetUnparkedBuckets(); len(b) > 0 {
			fmt.Fprintf(e.stderr, "forgot the Daily-limit parks of %s; the next call in each asks Zoom\n", strings.Join(b, ", "))
		} else {
			fmt.Fprintln(e.stderr, "no bucket was parked")
		}
		accts = []*dsarv1.Account{resp.GetAccount()}
	case "authorize":
		a, err := authorize(e, c, pos[0], *code)
		if err != nil {
			return err
		}
		accts = []*dsarv1.Account{a}
	}
	for i, a := range accts {
		if *asJSON {
			b, err := protojson.MarshalOptions{Multiline: true}.Marshal(a)
			if err != nil {
				return err
			}
			fmt.Fprintln(e.stdout, string(b))
			continue
		}
		if i > 0 {
			fmt.Fprintln(e.stdout)
		}
		writeAccount(e.stdout, a)
	}
	if verb == "check" || verb == "authorize" {
		if ch := accts[0].GetCheck(); ch.GetProblem() != "" || len(ch.GetSectionProblems()) > 0 {
			return errors.New("accounts check: the account is not fully usable; see above")
		}
	}
	return nil
}

// accountsArgs are the arguments of each verb of accounts, for -h.
var accountsArgs = map[string]string{"list": "", "check": "NAME", "reset-quota": "NAME", "authorize": "NAME"}

// writeAccount prints an account for a person.
func writeAccount(w io.Writer, a *dsarv1.Account) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "account\t%s\n", a.GetName())
	fmt.Fprintf(tw, "plan\t%s\n", a.GetPlan())
	fmt.Fprintf(tw, "app\t%s\n", a.GetApp())
	switch ch := a.GetCheck(); {
	case ch == nil:
		fmt.Fprintf(tw, "check\tnot run yet\n")
	case ch.GetProblem() != "":
		fmt.Fprintf(tw, "check\tFAILED at %s: %s\n", timeString(ch.GetCheckTime()), ch.GetProblem())
	case len(ch.GetSectionProblems()) > 0:
		fmt.Fprintf(tw, "check\tOK at %s, but sections lack scopes\n", timeString(ch.GetCheckTime()))
	default:
		fmt.Fprintf(tw, "check\tOK at %s\n", timeString(ch.GetCheckTime()))
	}
	if ch := a.GetCheck(); ch != nil {
		if g := ch.GetGrantedScopes(); len(g) > 0 {
			fmt.Fprintf(tw, "granted\t%s\n", strings.Join(g, " "))
		}
		if m := ch.GetMissingScopes(); len(m) > 0 {
			fmt.Fprintf(tw, "missing\t%s\n", strings.Join(m, " "))
		}
		for _, sp := range ch.GetSectionProblems() {
			fmt.Fprintf(tw, "section\t%s\n", sp.GetProblem())
		}
	}
	inFlight := "none"
	if ids := a.GetRequestsInFlight(); len(ids) > 0 {
		inFlight = strings.Join(ids, " ")
	}
	fmt.Fprintf(tw, "in flight\t%s\n", inFlight)
	tw.Flush()
	if len(a.GetBuckets()) == 0 {
		fmt.Fprintln(w, "buckets: none used since dsard started")
		return
	}
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "BUCKET\tCONFIGURED\tCURRENT\tDAILY REMAINING\tPARKED UNTIL\tBREAKER")
	for _, b := range a.GetBuckets() {
		daily := "-"
		if b.DailyRemaining != nil {
			daily = strconv.Itoa(int(b.GetDailyRemaining())) + " at " + timeString(b.GetDailyRemainingTime())
		}
		parked := "-"
		if b.GetParkedUntil() != nil {
			parked = timeString(b.GetParkedUntil())
		}
		breaker := b.GetBreaker()
		if b.GetNextProbeTime() != nil {
			breaker += " until " + timeString(b.GetNextProbeTime())
		}
		fmt.Fprintf(tw, "%s\t%s/s\t%s/s\t%s\t%s\t%s\n", b.GetName(), rate(b.GetConfiguredRate()), rate(b.GetCurrentRate()), daily, parked, breaker)
	}
	tw.Flush()
}

// rate prints requests per second with the precision a person reads.
func rate(r float64) string {
	if r < 1 {
		return strconv.FormatFloat(r, 'f', 3, 64)
	}
	return strconv.FormatFloat(r, 'f', 1, 64)
}
