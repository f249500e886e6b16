package store

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

// Keys join their components with a zero byte, which no component may
// contain, so that bytes.Compare orders keys by (component, component, ...)
// and a prefix scan finds exactly one request, section or part. Sequence
// numbers are 8 bytes big-endian for the same reason.

const (
	sep          = 0
	maxComponent = 512
)

// checkComponent rejects a key component that would break the encoding.
func checkComponent(what, s string) error {
	switch {
	case s == "":
		return fmt.Errorf("%s is empty", what)
	case len(s) > maxComponent:
		return fmt.Errorf("%s is longer than %d bytes", what, maxComponent)
	case bytes.IndexByte([]byte(s), sep) >= 0:
		return fmt.Errorf("%s contains a zero byte", what)
	}
	return nil
}

// joinKey returns the components joined by sep, with a trailing sep when
// prefix is set.
func joinKey(prefix bool, parts ...string) []byte {
	n := len(parts)
	for _, p := range parts {
		n += len(p)
	}
	k := make([]byte, 0, n+8)
	for i, p := range parts {
		if i > 0 {
			k = append(k, sep)
		}
		k = append(k, p...)
	}
	if prefix {
		k = append(k, sep)
	}
	return k
}

func sectionKey(id, section string) []byte { return joinKey(false, id, section) }

func stateKey(state, id string) []byte { return joinKey(false, state, id) }

// pagePrefix is the prefix of the pages of a part; with part "" it is the
// prefix of the pages of a whole section.
func pagePrefix(id, section, part string) []byte {
	if part == "" {
		return joinKey(true, id, section)
	}
	return joinKey(true, id, section, part)
}

func pageKey(id, section, part string, seq uint64) []byte {
	return binary.BigEndian.AppendUint64(pagePrefix(id, section, part), seq)
}

// parsePageKey is the inverse of pageKey.
func parsePageKey(k []byte) (id, section, part string, seq uint64, err error) {
	if len(k) < 8+6 {
		return "", "", "", 0, fmt.Errorf("page key of %d bytes is too short", len(k))
	}
	head, tail := k[:len(k)-8], k[len(k)-8:]
	fields := bytes.Split(head, []byte{sep})
	if len(fields) != 4 || len(fields[3]) != 0 ||
		len(fields[0]) == 0 || len(fields[1]) == 0 || len(fields[2]) == 0 {
		return "", "", "", 0, fmt.Errorf("malformed page key")
	}
	return string(fields[0]), string(fields[1]), string(fields[2]), binary.BigEndian.Uint64(tail), nil
}

func seqKey(seq uint64) []byte { return binary.BigEndian.AppendUint64(nil, seq) }

func auditReqKey(id string, seq uint64) []byte {
	return binary.BigEndian.AppendUint64(joinKey(true, id), seq)
}
