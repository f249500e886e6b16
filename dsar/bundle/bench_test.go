package bundle

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/metrics"
	"strings"
	"testing"

	"github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/zip"

	"github.com/zoomdsar/zoom-dsar/dsar"
)

// Benchmarks. The 1 GiB heap case runs only with DSAR_BENCH_LARGE=1:
//
//	go test ./dsar/bundle -run '^$' -bench . -benchtime 3x
//	DSAR_BENCH_LARGE=1 go test ./dsar/bundle -run '^$' -bench PeakHeap -benchtime 1x

var words = strings.Fields("weekly sync planning review design budget onboarding retro demo standup " +
	"customer launch hiring quarterly roadmap security training interview board product")

// genPage appends one emulator-shaped page of 300 records to dst: meetings
// (GET /users/{id}/meetings) or recordings with their files
// (GET /users/{id}/recordings).
func genPage(dst []byte, r *rand.Rand, n int, recordings bool) []byte {
	dst = append(dst, `{"page_size":300,"total_records":9000,"next_page_token":"`...)
	dst = fmt.Appendf(dst, "%016x", r.Uint64())
	dst = append(dst, `","meetings":[`...)
	for i := range 300 {
		if i > 0 {
			dst = append(dst, ',')
		}
		id := 80000000000 + r.Int64N(1e10)
		topic := words[r.IntN(len(words))] + " " + words[r.IntN(len(words))] + fmt.Sprint(" #", n*300+i)
		start := fmt.Sprintf("2025-%02d-%02dT%02d:%02d:00Z", 1+r.IntN(12), 1+r.IntN(28), r.IntN(24), r.IntN(60))
		dst = fmt.Appendf(dst, `{"uuid":"%x==","id":%d,"host_id":"KDcuGIm1QgePTO8WbOqwIQ","topic":%q,"type":%d,"start_time":%q,"duration":%d,"timezone":"Europe/Berlin"`,
			r.Uint64(), id, topic, 2+r.IntN(7), start, 15+r.IntN(120))
		if !recordings {
			dst = fmt.Appendf(dst, `,"agenda":%q,"created_at":%q,"join_url":"https://example.zoom.test/j/%d?pwd=%x","pmi":"%d"}`,
				words[r.IntN(len(words))]+" notes", start, id, r.Uint64(), 1000000000+r.IntN(1e9))
			continue
		}
		files := 1 + r.IntN(3)
		dst = fmt.Appendf(dst, `,"account_id":"acct-1","total_size":%d,"recording_count":%d,"recording_files":[`, r.IntN(1e9), files)
		for f := range files {
			if f > 0 {
				dst = append(dst, ',')
			}
			fid := r.Uint64()
			dst = fmt.Appendf(dst, `{"id":"%x","meeting_id":"%x==","recording_start":%q,"recording_end":%q,"file_type":"MP4","file_extension":"MP4","file_size":%d,"play_url":"https://example.zoom.test/rec/play/%x","download_url":"https://example.zoom.test/rec/download/%x","status":"completed","recording_type":"shared_screen_with_speaker_view"}`,
				fid, r.Uint64(), start, start, r.IntN(1e9), fid, fid)
		}
		dst = append(dst, "]}"...)
	}
	return append(dst, "]}"...)
}

// genSource makes pages on the fly, so that the input does not count in
// the heap that Write needs. Each part of each section gets the same pages.
type genSource struct {
	pages     int   // per part
	mediaSize int64 // total media bytes, in files of at most 64 MiB
	sample    func()
}

func (g *genSource) Pages(_ context.Context, _, section, part string, fn func(dsar.Page) error) error {
	r := rand.New(rand.NewPCG(uint64(len(section)), uint64(len(part))))
	var buf []byte
	for i := range g.pages {
		buf = genPage(buf[:0], r, i, section == "cloud_recordings")
		if g.sample != nil {
			g.sample()
		}
		if err := fn(dsar.Page{Body: buf}); err != nil {
			return err
		}
	}
	return nil
}

func (g *genSource) Media(_ context.Context, _ string, fn func(dsar.MediaFile, io.Reader) error) error {
	const fileSize = 64 << 20
	for i, left := 0, g.mediaSize; left > 0; i++ {
		n := min(left, fileSize)
		left -= n
		body := &patternReader{left: n, sample: g.sample}
		if err := fn(dsar.MediaFile{Section: dsar.SectionCloudRecordings, Name: fmt.Sprintf("%04d.mp4", i), Size: n}, body); err != nil {
			return err
		}
	}
	return nil
}

// patternReader yields n bytes of a fixed pattern.
type patternReader struct {
	left   int64
	reads  int
	sample func()
}

func (p *patternReader) Read(b []byte) (int, error) {
	if p.left == 0 {
		return 0, io.EOF
	}
	n := int(min(int64(len(b)), p.left))
	for i := range b[:n] {
		b[i] = byte(i*7 + int(p.left))
	}
	p.left -= int64(n)
	if p.reads++; p.reads%16 == 0 && p.sample != nil {
		p.sample()
	}
	return n, nil
}

var benchSections = []Section{
	section(dsar.Section{Name: "meetings", State: dsar.SectionComplete}, "scheduled:meetings", "previous_meetings:meetings"),
	section(dsar.Section{Name: "cloud_recordings", State: dsar.SectionComplete}, "recordings:meetings"),
}

// pagesFor returns the number of pages per part that make about size bytes
// of JSON over benchSections' three parts.
func pagesFor(size int64) int {
	var buf []byte
	r := rand.New(rand.NewPCG(1, 2))
	per := int64(len(genPage(buf, r, 0, false))+len(genPage(buf, r, 1, true))) / 2
	return int(max(1, size/per/3))
}

// BenchmarkAssembly compares Write with the bare klauspost zip Deflate
// writer on the same ~64 MiB of pages; the ratio of their MB/s is Write's
// relative throughput.
func BenchmarkAssembly(b *testing.B) {
	g := &genSource{pages: pagesFor(64 << 20)}
	var pages [][]byte
	var total int64
	for _, s := range benchSections {
		for _, p := range s.Parts {
			g.Pages(b.Context(), "", s.Name, p.Name, func(pg dsar.Page) error {
				pages = append(pages, bytes.Clone(pg.Body))
				total += int64(len(pg.Body))
				return nil
			})
		}
	}
	mem := &memSource{pages: map[string][]dsar.Page{}}
	i := 0
	for _, s := range benchSections {
		for _, p := range s.Parts {
			for range g.pages {
				mem.pages[s.Name+"/"+p.Name] = append(mem.pages[s.Name+"/"+p.Name], dsar.Page{Body: pages[i]})
				i++
			}
		}
	}
	req := Input{Request: &dsar.Request{ID: "bench"}, Version: "v", Sections: benchSections}
	key := testKey(1)

	b.Run("bundle", func(b *testing.B) {
		b.SetBytes(total)
		for b.Loop() {
			if _, err := Write(b.Context(), io.Discard, req, mem, key); err != nil {
				b.Fatal(err)
			}
		}
	})
	// The same entries, as the bundle holds them uncompressed (data,
	// CSV, pages, report), through the raw writer: what the bundle's own
	// work costs beyond compressing what it writes.
	var out bytes.Buffer
	if _, err := Write(b.Context(), &out, req, mem, key); err != nil {
		b.Fatal(err)
	}
	_, content, zr := readZip(b, out.Bytes())
	// "-levels": the same, at the levels the bundle uses (derivedLevel for
	// the CSV files and the further pages): a stricter reading, since the
	// raw writer's default level costs more on the derived entries.
	for _, name := range []string{"rawzip-entries", "rawzip-entries-levels"} {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(total)
			data, _ := flate.NewWriter(nil, deflateLevel)
			fast, _ := flate.NewWriter(nil, derivedLevel)
			for b.Loop() {
				zw := zip.NewWriter(io.Discard)
				for _, f := range zr.File {
					if name == "rawzip-entries-levels" {
						fw := data
						if strings.HasSuffix(f.Name, ".csv") || strings.HasPrefix(f.Name, "pages/") {
							fw = fast
						}
						zw.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) {
							fw.Reset(w)
							return fw, nil
						})
					}
					w, err := zw.Create(f.Name)
					if err != nil {
						b.Fatal(err)
					}
					w.Write(content[f.Name])
				}
				if err := zw.Close(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("rawzip", func(b *testing.B) {
		b.SetBytes(total)
		for b.Loop() {
			zw := zip.NewWriter(io.Discard)
			w, err := zw.Create("data.json")
			if err != nil {
				b.Fatal(err)
			}
			for _, p := range pages {
				w.Write(p)
			}
			if err := zw.Close(); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkPeakHeap reports the peak Go heap (live and unswept objects) and
// the peak live heap after a GC (both runtime/metrics) while writing a bundle of about 10 MiB and, with
// DSAR_BENCH_LARGE=1, about 1 GiB: half its size in JSON pages before
// compression, fifteen sixteenths in media.
func BenchmarkPeakHeap(b *testing.B) {
	sizes := []int64{10 << 20}
	if os.Getenv("DSAR_BENCH_LARGE") == "1" {
		sizes = append(sizes, 1<<30)
	}
	for _, size := range sizes {
		b.Run(fmt.Sprintf("%dMiB", size>>20), func(b *testing.B) {
			sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/gc/heap/live:bytes"}}
			var peak, live uint64
			g := &genSource{pages: pagesFor(size / 2), mediaSize: size * 15 / 16, sample: func() {
				metrics.Read(sample)
				peak = max(peak, sample[0].Value.Uint64())
				live = max(live, sample[1].Value.Uint64())
			}}
			req := Input{Request: &dsar.Request{ID: "bench"}, Version: "v", Sections: benchSections}
			var res Result
			for b.Loop() {
				runtime.GC()
				var err error
				res, err = Write(b.Context(), io.Discard, req, g, testKey(1))
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
			b.ReportMetric(float64(live)/(1<<20), "peak-live-MiB")
			b.ReportMetric(float64(res.Size)/(1<<20), "bundle-MiB")
		})
	}
}

// BenchmarkReportHeap reports the peak Go heap while writing the bundle
// of one section of 100,200 records (334 pages of 300 meetings), whose
// report runs to 101 pages and whose CSV holds every record.
func BenchmarkReportHeap(b *testing.B) {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	var peak uint64
	g := &genSource{pages: 334, sample: func() {
		metrics.Read(sample)
		peak = max(peak, sample[0].Value.Uint64())
	}}
	req := Input{Request: &dsar.Request{ID: "bench"}, Version: "v", Sections: []Section{
		section(dsar.Section{Name: "meetings", State: dsar.SectionComplete}, "scheduled:meetings"),
	}}
	var res Result
	for b.Loop() {
		runtime.GC()
		var err error
		if res, err = Write(b.Context(), io.Discard, req, g, testKey(1)); err != nil {
			b.Fatal(err)
		}
	}
	if n := res.Manifest.Sections[0].Records; n < 100000 {
		b.Fatalf("%d records, want at least 100,000", n)
	}
	pages := 0
	for _, e := range res.Manifest.Entries {
		if strings.HasPrefix(e.Path, "pages/") {
			pages++
		}
	}
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
	b.ReportMetric(float64(pages), "further-pages")
	b.ReportMetric(float64(res.Size)/(1<<20), "bundle-MiB")
}

// BenchmarkVerify measures Verify over a bundle of ~64 MiB of JSON pages;
// MB/s is of the bundle's (compressed) bytes, json-MB/s of the JSON in it.
func BenchmarkVerify(b *testing.B) {
	g := &genSource{pages: pagesFor(64 << 20)}
	req := Input{Request: &dsar.Request{ID: "bench"}, Version: "v", Sections: benchSections}
	key := testKey(1)
	var buf bytes.Buffer
	res, err := Write(b.Context(), &buf, req, g, key)
	if err != nil {
		b.Fatal(err)
	}
	var data int64
	for _, e := range res.Manifest.Entries {
		data += e.Size
	}
	bundle := buf.Bytes()
	pub := key.Public().(ed25519.PublicKey)
	b.SetBytes(int64(len(bundle)))
	for b.Loop() {
		if _, err := Verify(bytes.NewReader(bundle), int64(len(bundle)), pub); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(data)*float64(b.N)/b.Elapsed().Seconds()/1e6, "json-MB/s")
}

// BenchmarkMediaDir writes a 16 MiB media file as a download does (Create,
// 256 KiB writes, Commit with its fsync) and reads it back (Sum: every
// byte opened and hashed), sealed and in plain, in the same run:
//
//	go test ./dsar/bundle -run '^$' -bench MediaDir -benchtime 20x -count 3
func BenchmarkMediaDir(b *testing.B) {
	const size = 16 << 20
	data := mediaContent(size, "")
	for _, mode := range []string{"plain", "sealed"} {
		newDir := func(b *testing.B) *MediaDir {
			d := testMediaDir(b)
			if mode == "plain" {
				d.Key = nil
			}
			return d
		}
		b.Run("write/"+mode, func(b *testing.B) {
			d := newDir(b)
			b.SetBytes(size)
			for b.Loop() {
				w, _, err := d.Create("req-1", "cloud_recordings", "v.mp4", 0)
				if err != nil {
					b.Fatal(err)
				}
				for p := data; len(p) > 0; p = p[256<<10:] {
					if _, err := w.Write(p[:256<<10]); err != nil {
						b.Fatal(err)
					}
				}
				if err := w.Commit(); err != nil {
					b.Fatal(err)
				}
				if err := d.Remove("req-1", ""); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("read/"+mode, func(b *testing.B) {
			d := newDir(b)
			w, _, err := d.Create("req-1", "cloud_recordings", "v.mp4", 0)
			if err == nil {
				_, err = w.Write(data)
			}
			if err == nil {
				err = w.Commit()
			}
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(size)
			for b.Loop() {
				if n, _, err := d.Sum("req-1", "cloud_recordings", "v.mp4"); err != nil || n != size {
					b.Fatal(n, err)
				}
			}
		})
	}
}
