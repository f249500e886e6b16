package store

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/zoomdsar/zoom-dsar/dsar"
)

// crashChildEnv makes the test binary run crashChild instead of the tests.
const crashChildEnv = "STORE_TEST_CRASH_CHILD"

const crashSection, crashPart = dsar.SectionCloudRecordings, dsar.PartRecordings

// crashChild commits pages to the store at path for ever, printing each
// committed seq, until it is killed.
func crashChild(path string) int {
	ctx := context.Background()
	db, err := Open(path, Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	r := &dsar.Request{ID: "r1", Account: "acme", Email: "a@example.com", Regulation: dsar.GDPR,
		IdempotencyKey: "k1", State: dsar.StateQueued}
	if _, _, err := db.CreateRequest(ctx, r, dsar.NewSections("r1")); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	s, err := db.Section(ctx, "r1", crashSection)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	for seq := s.Part(crashPart).Pages; ; seq++ {
		page := dsar.Page{Body: jsonPage([]string{strconv.FormatInt(seq, 10)}, 23<<10), IDs: []string{strconv.FormatInt(seq, 10)}}
		next := dsar.Cursor{Window: int(seq / 10), PageToken: strconv.FormatInt(seq, 10)}
		if err := db.CommitPage(ctx, "r1", crashSection, crashPart, page, next, false); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		fmt.Println(seq)
	}
}

// TestCrash kills a process that is committing pages, at whatever point it
// has reached, and checks that the reopened store is consistent and that
// its cursor and pages agree. Three rounds continue the same store.
func TestCrash(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dsar.db")
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	for round, kills := range []int{5, 40, 17} {
		cmd := exec.CommandContext(t.Context(), exe, "-test.run=^$")
		cmd.Env = append(os.Environ(), crashChildEnv+"="+path)
		cmd.Stderr = os.Stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(out)
		var last int64 = -1
		for range kills {
			if !sc.Scan() {
				t.Fatalf("round %d: child stopped: %v", round, sc.Err())
			}
			if last, err = strconv.ParseInt(sc.Text(), 10, 64); err != nil {
				t.Fatal(err)
			}
		}
		if err := cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		// The child went on committing until the kill landed: its last
		// acknowledgement is the last line it wrote, read to the end of
		// the pipe before Wait closes it.
		for sc.Scan() {
			if last, err = strconv.ParseInt(sc.Text(), 10, 64); err != nil {
				t.Fatal(err)
			}
		}
		_ = cmd.Wait()

		db, err := Open(path, Options{})
		if err != nil {
			t.Fatalf("round %d: reopen: %v", round, err)
		}
		if err := db.Check(); err != nil {
			t.Errorf("round %d: Check: %v", round, err)
		}
		s, err := db.Section(t.Context(), "r1", crashSection)
		if err != nil {
			t.Fatal(err)
		}
		p := s.Part(crashPart)
		var n int64
		err = db.Pages(t.Context(), "r1", crashSection, crashPart, func(pg dsar.Page) error {
			if pg.Seq != uint64(n) || len(pg.IDs) != 1 || pg.IDs[0] != strconv.FormatInt(n, 10) {
				t.Errorf("round %d: page %d has seq %d ids %v", round, n, pg.Seq, pg.IDs)
			}
			n++
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		// Every acknowledged commit survived; at most the one in flight more.
		if n < last+1 || n > last+2 || n <= total {
			t.Errorf("round %d: %d pages after the child acknowledged seq %d (before: %d)", round, n, last, total)
		}
		if p.Pages != n || p.Cursor.PageToken != strconv.FormatInt(n-1, 10) || s.Pages != n {
			t.Errorf("round %d: %d pages stored but part says %d pages, cursor %+v", round, n, p.Pages, p.Cursor)
		}
		total = n
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
	}
}
