package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/zoomdsar/zoom-dsar/cmd/internal/progress"
	dsarv1 "github.com/zoomdsar/zoom-dsar/proto/dsar/v1"
)

// format is the value of -o: how a command prints the API's messages.
type format string

const (
	formatTable format = "table" // for a person
	formatWide  format = "wide"  // the table with more columns
	formatJSON  format = "json"  // protojson of the API's message, for a program
)

var formats = []string{string(formatTable), string(formatWide), string(formatJSON)}

func (f *format) String() string { return string(*f) }
func (f *format) Type() string   { return "format" }

func (f *format) Set(v string) error {
	switch format(v) {
	case formatTable, formatWide, formatJSON:
		*f = format(v)
		return nil
	}
	return fmt.Errorf("want %s", strings.Join(formats, ", "))
}

// outputFlag declares -o on a command that prints API messages.
func outputFlag(cmd *cobra.Command) *format {
	f := formatTable
	cmd.Flags().VarP(&f, "output", "o", "output `format`: table, wide or json (protojson of the API's message)")
	cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions(formats, cobra.ShellCompDirectiveNoFileComp))
	return &f
}

// jsonIndented and jsonLine are the layouts of writeJSON: indented for a
// person, and one message a line for a stream of them (watch -o json).
var (
	jsonIndented = protojson.MarshalOptions{Multiline: true, Indent: "  "}
	jsonLine     = protojson.MarshalOptions{}
)

// writeJSON prints a message as protojson, the API's JSON mapping: field
// names in lowerCamelCase, enums by name, times in RFC 3339 UTC.
func writeJSON(w io.Writer, layout protojson.MarshalOptions, m proto.Message) error {
	b, err := layout.Marshal(m)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(w, string(b))
	return err
}

// time prints a time of the API in dsarctl's one format (progress.Time);
// "" when unset.
func (e *env) time(t *timestamppb.Timestamp) string {
	if t == nil {
		return ""
	}
	return progress.Time(t.AsTime(), e.loc())
}

func enumWord(s, prefix string) string { return strings.TrimPrefix(s, prefix) }

// outcomeWord is a request's outcome without its prefix: USER_FOUND; ""
// while unknown.
func outcomeWord(o dsarv1.Outcome) string {
	if o == dsarv1.Outcome_OUTCOME_UNSPECIFIED {
		return ""
	}
	return enumWord(o.String(), "OUTCOME_")
}

// stateWord and sectionWord are the words progress shows, so that get,
// list and watch say the same.
var (
	stateWord   = progress.StateWord
	sectionWord = progress.SectionWord
)

// writeRequest prints a request for a person; wide adds the sections'
// pages, calls and times.
func (e *env) writeRequest(w io.Writer, r *dsarv1.AccessRequest, wide bool) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	row := func(k, val string) {
		if val != "" {
			fmt.Fprintf(tw, "%s\t%s\n", k, val)
		}
	}
	row("id", r.GetId())
	row("state", stateWord(r.GetState()))
	row("reason", r.GetReason())
	row("outcome", outcomeWord(r.GetOutcome()))
	row("account", r.GetAccount())
	row("email", r.GetEmail())
	row("regulation", enumWord(r.GetRegulation().String(), "REGULATION_"))
	row("created", e.time(r.GetCreateTime()))
	if wide {
		row("updated", e.time(r.GetUpdateTime()))
		row("idempotency key", r.GetIdempotencyKey())
	}
	row("due", e.time(r.GetDueTime()))
	row("waiting until", e.time(r.GetWaitingUntil()))
	if x := r.GetExtension(); x != nil {
		row("extended", fmt.Sprintf("%s by %s: %s", e.time(x.GetExtendTime()), x.GetExtendedBy(), x.GetReason()))
	}
	if est := r.GetEstimate(); est != nil {
		var calls []string
		for _, c := range est.GetCalls() {
			calls = append(calls, fmt.Sprintf("%s %d", c.GetBucket(), c.GetCalls()))
		}
		row("expected calls", strings.Join(calls, ", "))
		row("expected done", e.time(est.GetCompletionTime()))
		if est.GetAtRisk() {
			row("at risk", est.GetAtRiskReason())
		}
	}
	row("deferred", r.GetDeferredReason())
	if b := r.GetBundle(); b != nil {
		row("bundle", fmt.Sprintf("%d bytes, sha256 %s", b.GetSizeBytes(), b.GetSha256()))
		row("signed by", b.GetKeyFingerprint())
	}
	if rt := r.GetRetention(); rt.GetBundlePurgeTime() != nil {
		row("email hash", rt.GetEmailHash())
		row("purged", fmt.Sprintf("%s because %s", e.time(rt.GetBundlePurgeTime()), rt.GetPurgeReason()))
		if rt.GetManifestKept() {
			row("manifest", "kept, the email hashed: dsarctl manifest "+r.GetId())
		} else if r.GetBundle() != nil {
			row("manifest", "none kept: the bundle was missing or damaged at the purge")
		}
	} else {
		row("bundle expires", e.time(rt.GetBundleExpireTime()))
		row("pages purged", e.time(rt.GetCollectedPurgeTime()))
	}
	if r.GetBundle() != nil {
		row("downloads", fmt.Sprint(r.GetRetention().GetDownloads()))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(r.GetSections()) == 0 {
		return nil
	}
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	head := "SECTION\tSTATE\tRECORDS\tPAGES\tCALLS\tWINDOWS\tMEDIA"
	if wide {
		head += "\tSTARTED\tFINISHED\tWAITING UNTIL"
	}
	fmt.Fprintln(tw, head+"\tREASON")
	for _, s := range r.GetSections() {
		win := ""
		if s.GetWindowsTotal() > 0 {
			win = fmt.Sprintf("%d/%d", s.GetWindowsDone(), s.GetWindowsTotal())
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%s\t%s", s.GetName(), sectionWord(s.GetState()), s.GetRecords(), s.GetPages(), s.GetCalls(), win, progress.Media(s))
		if wide {
			fmt.Fprintf(tw, "\t%s\t%s\t%s", e.time(s.GetStartTime()), e.time(s.GetFinishTime()), e.time(s.GetWaitingUntil()))
		}
		fmt.Fprintf(tw, "\t%s\n", s.GetReason())
	}
	return tw.Flush()
}
