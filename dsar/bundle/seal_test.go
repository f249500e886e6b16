package bundle

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
)

// TestSealRoundTrip seals streams of sizes around the segment size and
// reads them back, written in one call and a byte at a time.
func TestSealRoundTrip(t *testing.T) {
	aead, err := newAEAD(bytes.Repeat([]byte{1}, 32), []byte("salt"), "test")
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{0, 1, segmentSize - 1, segmentSize, segmentSize + 1, 3 * segmentSize} {
		for _, chunk := range []int{n + 1, 1000} {
			t.Run(fmt.Sprintf("%d bytes by %d", n, chunk), func(t *testing.T) {
				plain := mediaContent(n, "")
				var sealed bytes.Buffer
				w := newSealWriter(&sealed, aead, []byte("stream"), 0)
				for p := plain; len(p) > 0; p = p[min(chunk, len(p)):] {
					if _, err := w.Write(p[:min(chunk, len(p))]); err != nil {
						t.Fatal(err)
					}
				}
				if err := w.Close(); err != nil {
					t.Fatal(err)
				}
				if int64(sealed.Len()) != sealedSize(int64(n)) {
					t.Errorf("sealed %d bytes, sealedSize says %d", sealed.Len(), sealedSize(int64(n)))
				}
				got, err := io.ReadAll(newOpenReader(bytes.NewReader(sealed.Bytes()), aead, []byte("stream")))
				if err != nil || !bytes.Equal(got, plain) {
					t.Errorf("read back %d bytes, %v; want the %d written", len(got), err, n)
				}
				_, err = io.ReadAll(newOpenReader(bytes.NewReader(sealed.Bytes()), aead, []byte("other")))
				if !errors.Is(err, errSealed) {
					t.Errorf("read as another stream: %v, want %v", err, errSealed)
				}
			})
		}
	}
}

// TestAsideSealed: the report's further pages are not in plain in their
// temporary file, read back whole in any order, and one altered fails.
func TestAsideSealed(t *testing.T) {
	const marker = "subject@example.test"
	a := &aside{dir: t.TempDir(), id: "r"}
	defer a.close()
	pages := []string{strings.Repeat("<tr><td>"+marker+"</td></tr>", 5000), "<p>" + marker + "</p>"}
	for i, p := range pages {
		if err := a.start("s/p", fmt.Sprintf("pages/%d.html", i)); err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(a.w, p); err != nil {
			t.Fatal(err)
		}
		if err := a.end(); err != nil {
			t.Fatal(err)
		}
	}
	raw, err := os.ReadFile(a.f.Name())
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, []byte(marker)) {
		t.Error("the pages' temporary file holds the plaintext")
	}
	entries := a.parts["s/p"]
	for _, i := range []int{1, 0} {
		got, err := io.ReadAll(a.open(entries[i]))
		if err != nil || string(got) != pages[i] {
			t.Errorf("page %d read back: %d bytes, %v; want %d", i, len(got), err, len(pages[i]))
		}
	}
	if _, err := a.f.WriteAt([]byte{raw[entries[1].off] ^ 1}, entries[1].off); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadAll(a.open(entries[1])); !errors.Is(err, errSealed) {
		t.Errorf("an altered page read back: %v, want %v", err, errSealed)
	}
	if _, err := io.ReadAll(a.open(asideEntry{off: entries[0].off, n: entries[0].n, seq: 1})); !errors.Is(err, errSealed) {
		t.Errorf("page 0 read as page 1: %v, want %v", err, errSealed)
	}
}
