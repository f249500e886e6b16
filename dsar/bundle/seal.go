package bundle

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Personal data kept on disk outside the store (media files while a
// request runs, the report's further pages while a bundle is written) is
// sealed with AES-256-GCM in segments of segmentSize bytes of plaintext, so
// that a stream can be appended to after a crash and read without holding
// it whole. A segment is a random nonce, the ciphertext and the tag; its
// additional data is the stream's (a file's header, an entry's number),
// its number and whether it is the last: a segment moved, reordered,
// dropped or altered does not open, nor does a stream cut after a segment.
// Every segment but the last holds segmentSize bytes; the last holds fewer
// (possibly none), which is how a reader knows it for the last.
const (
	segmentSize     = 64 << 10
	segmentOverhead = 12 + 16 // nonce and tag
	sealedSegment   = segmentSize + segmentOverhead
)

// sealedSize is the size of a stream of n bytes of plaintext once sealed.
func sealedSize(n int64) int64 {
	return n/segmentSize*sealedSegment + n%segmentSize + segmentOverhead
}

// newAEAD returns AES-256-GCM with random nonces under a key derived from
// secret, salt and info with HKDF-SHA256: each stream has its own key, so
// that a data key seals any number of files.
func newAEAD(secret, salt []byte, info string) (cipher.AEAD, error) {
	if len(secret) != 32 {
		return nil, fmt.Errorf("a data key of %d bytes, want 32", len(secret))
	}
	key, err := hkdf.Key(sha256.New, secret, salt, info, 32)
	if err != nil {
		return nil, err
	}
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCMWithRandomNonce(b)
}

// segmentAD is the additional data of segment n of a stream.
func segmentAD(dst, stream []byte, n uint64, last bool) []byte {
	dst = append(append(dst[:0], stream...), 0, 0, 0, 0, 0, 0, 0, 0, 0)
	binary.BigEndian.PutUint64(dst[len(stream):], n)
	if last {
		dst[len(dst)-1] = 1
	}
	return dst
}

// sealWriter seals what is written to it onto w, a segment at a time,
// writing sealBatch segments at once. Close seals the last segment; until
// then w holds only whole segments.
type sealWriter struct {
	w      io.Writer
	aead   cipher.AEAD
	stream []byte // the stream's additional data
	n      uint64 // segments sealed
	buf    []byte // plaintext of segment n
	out    []byte // sealed segments not yet written
	ad     []byte
	closed bool
	err    error
}

const sealBatch = 4

func newSealWriter(w io.Writer, aead cipher.AEAD, stream []byte, n uint64) *sealWriter {
	return &sealWriter{w: w, aead: aead, stream: stream, n: n,
		buf: make([]byte, 0, segmentSize), out: make([]byte, 0, sealBatch*sealedSegment)}
}

// reset begins a new stream onto the same writer.
func (s *sealWriter) reset(stream []byte) {
	s.stream, s.n, s.buf, s.out, s.closed, s.err = stream, 0, s.buf[:0], s.out[:0], false, nil
}

func (s *sealWriter) Write(p []byte) (int, error) {
	if s.closed {
		return 0, errors.New("write to a closed sealed stream")
	}
	written := 0
	for len(p) > 0 && s.err == nil {
		if len(s.buf) == 0 && len(p) >= segmentSize {
			// A whole segment in p: sealed from there, not copied first.
			s.seal(p[:segmentSize], false)
			p, written = p[segmentSize:], written+segmentSize
			continue
		}
		k := copy(s.buf[len(s.buf):segmentSize], p)
		s.buf, p, written = s.buf[:len(s.buf)+k], p[k:], written+k
		if len(s.buf) == segmentSize {
			s.seal(s.buf, false)
			s.buf = s.buf[:0]
		}
	}
	return written, s.err
}

// Flush writes the segments sealed so far; the plaintext of one not yet
// whole stays.
func (s *sealWriter) Flush() error {
	if s.err == nil && len(s.out) > 0 {
		_, s.err = s.w.Write(s.out)
		s.out = s.out[:0]
	}
	return s.err
}

// Close seals the last segment and writes it, once. It does not close w.
func (s *sealWriter) Close() error {
	if s.err == nil && !s.closed {
		s.seal(s.buf, true)
		s.buf, s.closed = s.buf[:0], true
	}
	return s.err
}

func (s *sealWriter) seal(plain []byte, last bool) {
	s.ad = segmentAD(s.ad, s.stream, s.n, last)
	s.out = s.aead.Seal(s.out, nil, plain, s.ad)
	s.n++
	if last || len(s.out) >= sealBatch*sealedSegment {
		s.Flush()
	}
}

// openReader reads the plaintext of a stream sealWriter wrote onto r. A
// segment that does not open, or a stream without its last segment, is an
// error at the point it is met: what was read before it is authentic.
type openReader struct {
	r      io.Reader
	aead   cipher.AEAD
	stream []byte
	n      uint64
	in     []byte
	buf    []byte
	plain  []byte // not yet read
	ad     []byte
	last   bool // segment n-1 was the last
	err    error
}

func newOpenReader(r io.Reader, aead cipher.AEAD, stream []byte) *openReader {
	return &openReader{r: r, aead: aead, stream: stream, in: make([]byte, sealedSegment), buf: make([]byte, 0, segmentSize)}
}

// reset begins reading another stream, from r.
func (o *openReader) reset(r io.Reader, stream []byte) {
	o.r, o.stream, o.n, o.plain, o.last, o.err = r, stream, 0, nil, false, nil
}

func (o *openReader) Read(p []byte) (int, error) {
	for len(o.plain) == 0 && o.err == nil {
		o.next()
	}
	if len(o.plain) == 0 {
		return 0, o.err
	}
	k := copy(p, o.plain)
	o.plain = o.plain[k:]
	return k, nil
}

// WriteTo writes the plaintext to w a segment at a time, without the
// copy Read makes.
func (o *openReader) WriteTo(w io.Writer) (int64, error) {
	var n int64
	for {
		for len(o.plain) == 0 && o.err == nil {
			o.next()
		}
		if len(o.plain) == 0 {
			if o.err == io.EOF {
				return n, nil
			}
			return n, o.err
		}
		k, err := w.Write(o.plain)
		n, o.plain = n+int64(k), o.plain[k:]
		if err != nil {
			return n, err
		}
	}
}

// errSealed says why a segment does not open without saying more than
// the reader knows.
var errSealed = errors.New("wrong key, or the file was altered, reordered or cut")

func (o *openReader) next() {
	if o.last {
		o.err = io.EOF
		return
	}
	// A short read is the last segment: bytes after it would have made
	// it longer, and it does not open.
	k, err := io.ReadFull(o.r, o.in)
	switch {
	case err == io.EOF || err == io.ErrUnexpectedEOF:
		o.last = true
	case err != nil:
		o.err = err
		return
	}
	o.ad = segmentAD(o.ad, o.stream, o.n, o.last)
	plain, err := o.aead.Open(o.buf[:0], nil, o.in[:k], o.ad)
	if err != nil {
		o.err = fmt.Errorf("segment %d does not open: %w", o.n, errSealed)
		return
	}
	o.plain = plain
	o.n++
}

// wholeSegments reads segments from r until one does not open as a
// segment other than the last: how many did, the part of a partial file
// to keep.
func wholeSegments(r io.Reader, aead cipher.AEAD, stream []byte) uint64 {
	in, plain := make([]byte, sealedSegment), make([]byte, 0, segmentSize)
	var ad []byte
	var n uint64
	for {
		if _, err := io.ReadFull(r, in); err != nil {
			return n
		}
		ad = segmentAD(ad, stream, n, false)
		if _, err := aead.Open(plain, nil, in, ad); err != nil {
			return n
		}
		n++
	}
}
