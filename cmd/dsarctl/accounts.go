package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	dsarv1 "github.com/zoomdsar/zoom-dsar/proto/dsar/v1"
)

// newAccounts shows and steers the Zoom accounts:
//
//	dsarctl accounts                  every account, its check and buckets
//	dsarctl accounts check NAME       check NAME now; exit 1 if anything is wrong
//	dsarctl accounts reset-quota NAME forget NAME's Daily-limit parks (audited)
//	dsarctl accounts authorize NAME   authorize NAME's OAuth app (audited)
func newAccounts(e *env) *cobra.Command {
	cmd := command("accounts", "show the Zoom accounts; check one, reset its quota parks, authorize its app", 0, 0, nil)
	out := outputFlag(cmd)
	cmd.Args = func(_ *cobra.Command, args []string) error {
		if len(args) > 0 {
			return usagef("accounts: unknown verb %q; want check NAME, reset-quota NAME or authorize NAME", args[0])
		}
		return nil
	}
	cmd.RunE = func(*cobra.Command, []string) error {
		return e.call(func(c dsarv1.AccessRequestServiceClient) error {
			resp, err := c.ListAccounts(e.ctx, &dsarv1.ListAccountsRequest{})
			if err != nil {
				return rpcError("accounts", err)
			}
			if *out == formatJSON {
				return writeJSON(e.stdout, jsonIndented, resp)
			}
			if len(resp.GetAccounts()) == 0 {
				fmt.Fprintln(e.stdout, "no Zoom account is configured (dsard -accounts FILE)")
				return nil
			}
			for i, a := range resp.GetAccounts() {
				if i > 0 {
					fmt.Fprintln(e.stdout)
				}
				e.writeAccount(e.stdout, a)
			}
			return nil
		})
	}
	cmd.AddCommand(
		accountVerb(e, "check", "check an account now; exit 1 unless every section can run",
			func(c dsarv1.AccessRequestServiceClient, name string) (*dsarv1.Account, error) {
				resp, err := c.CheckAccount(e.ctx, &dsarv1.CheckAccountRequest{Name: name})
				if err != nil {
					return nil, rpcError("accounts check", err)
				}
				return resp.GetAccount(), nil
			}),
		accountVerb(e, "reset-quota", "forget an account's Daily-limit parks (audited): the next call asks Zoom",
			func(c dsarv1.AccessRequestServiceClient, name string) (*dsarv1.Account, error) {
				resp, err := c.ResetAccountQuota(e.ctx, &dsarv1.ResetAccountQuotaRequest{Name: name})
				if err != nil {
					return nil, rpcError("accounts reset-quota", err)
				}
				if b := resp.GetUnparkedBuckets(); len(b) > 0 {
					fmt.Fprintf(e.stderr, "forgot the Daily-limit parks of %s; the next call in each asks Zoom\n", strings.Join(b, ", "))
				} else {
					fmt.Fprintln(e.stderr, "no bucket was parked")
				}
				return resp.GetAccount(), nil
			}),
	)
	var code string
	auth := accountVerb(e, "authorize", "authorize an account's OAuth app: a Zoom admin consents (audited)",
		func(c dsarv1.AccessRequestServiceClient, name string) (*dsarv1.Account, error) {
			return authorize(e, c, name, code)
		})
	auth.Flags().StringVar(&code, "code", "", "the code parameter of the address Zoom redirected to, when dsarctl cannot receive it itself (\"-\": read it from stdin)")
	cmd.AddCommand(auth)
	return cmd
}

// accountVerb is a subcommand of accounts that does one thing to account
// NAME and prints it; check and authorize fail when it is not fully
// usable.
func accountVerb(e *env, verb, short string, do func(c dsarv1.AccessRequestServiceClient, name string) (*dsarv1.Account, error)) *cobra.Command {
	cmd := command(verb+" NAME", short, 1, 1, nil)
	out := outputFlag(cmd)
	cmd.RunE = func(_ *cobra.Command, args []string) error {
		return e.call(func(c dsarv1.AccessRequestServiceClient) error {
			a, err := do(c, args[0])
			if err != nil {
				return err
			}
			if *out == formatJSON {
				err = writeJSON(e.stdout, jsonIndented, a)
			} else {
				e.writeAccount(e.stdout, a)
			}
			if err != nil {
				return err
			}
			if ch := a.GetCheck(); verb != "reset-quota" && (ch.GetProblem() != "" || len(ch.GetSectionProblems()) > 0) {
				return fmt.Errorf("accounts %s: the account is not fully usable; see above", verb)
			}
			return nil
		})
	}
	return cmd
}

// writeAccount prints an account for a person.
func (e *env) writeAccount(w io.Writer, a *dsarv1.Account) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "account\t%s\n", a.GetName())
	fmt.Fprintf(tw, "plan\t%s\n", a.GetPlan())
	fmt.Fprintf(tw, "app\t%s\n", a.GetApp())
	switch ch := a.GetCheck(); {
	case ch == nil:
		fmt.Fprintf(tw, "check\tnot run yet\n")
	case ch.GetProblem() != "":
		fmt.Fprintf(tw, "check\tFAILED at %s: %s\n", e.time(ch.GetCheckTime()), ch.GetProblem())
	case len(ch.GetSectionProblems()) > 0:
		fmt.Fprintf(tw, "check\tOK at %s, but sections lack scopes\n", e.time(ch.GetCheckTime()))
	default:
		fmt.Fprintf(tw, "check\tOK at %s\n", e.time(ch.GetCheckTime()))
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
			daily = strconv.Itoa(int(b.GetDailyRemaining())) + " at " + e.time(b.GetDailyRemainingTime())
		}
		parked := "-"
		if b.GetParkedUntil() != nil {
			parked = e.time(b.GetParkedUntil())
		}
		breaker := b.GetBreaker()
		if b.GetNextProbeTime() != nil {
			breaker += " until " + e.time(b.GetNextProbeTime())
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
