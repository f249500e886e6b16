package store

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/zoomdsar/zoom-dsar/dsar"
)

// Encryption at rest. With Options.MasterKey every request gets a data key
// of its own (32 random bytes) when it is created; the key is stored
// wrapped, sealed with AES-256-GCM under a key derived from the master key
// (bucketDataKeys), and seals the request's stored pages and its email.
// The grants of OAuth apps belong to an account, not to a request: they
// are sealed under another key derived from the master key. Each sealed
// value is bound to its place (request id, section, part, page number...)
// by GCM's additional data, so that a value moved elsewhere does not open.
// Destroying a request's data key (destroyDataKey) makes what is left of
// its data, in the file's free pages or on the disk, unreadable.
//
// Without a master key nothing is sealed, as before schema version 5: for
// tests and benchmarks. A store sealed once refuses to open without its
// key. The decoders read sealed and plain values alike.

// KeySize is the size of the master key and of the keys derived from it.
const KeySize = 32

// ErrMasterKey is in the chain of Open's error when the master key is not
// the one the store was sealed with.
var ErrMasterKey = errors.New("wrong master key")

// ErrPurged is wrapped in the error of code dsar.ENOTFOUND that DataKey
// returns once a request's data key is destroyed.
var ErrPurged = errors.New("purged")

const (
	// sealedTag starts a sealed value that has no format of its own (an
	// email, a grant): no JSON record starts with it.
	sealedTag = 0xA5
	nonceSize = 12

	// The labels of the keys derived from the master key (DeriveKey).
	purposeWrap   = "store: wrapping of data keys"
	purposeGrants = "store: grants of OAuth apps"
	purposeCheck  = "store: master key check"
)

// The additional data of each kind of sealed value starts with its own
// label, then the value's place.
const (
	adDataKey = "data key"
	adEmail   = "email"
	adPage    = "page"
	adGrant   = "grant"
)

// DeriveKey returns the key for purpose derived from the master key with
// HKDF-SHA256: one master key gives independent keys for each use.
func DeriveKey(master []byte, purpose string) ([]byte, error) {
	if len(master) != KeySize {
		return nil, fmt.Errorf("master key of %d bytes, want %d", len(master), KeySize)
	}
	return hkdf.Key(sha256.New, master, nil, "zoom-dsar "+purpose, KeySize)
}

// sealer holds the keys derived from the master key.
type sealer struct {
	wrap   cipher.AEAD // wraps data keys
	grants cipher.AEAD // seals grants
	check  []byte      // stored in meta: tells a wrong master key at Open
}

func newSealer(master []byte) (*sealer, error) {
	var s sealer
	for _, k := range []struct {
		purpose string
		aead    *cipher.AEAD
	}{{purposeWrap, &s.wrap}, {purposeGrants, &s.grants}} {
		key, err := DeriveKey(master, k.purpose)
		if err != nil {
			return nil, err
		}
		if *k.aead, err = newAEAD(key); err != nil {
			return nil, err
		}
	}
	var err error
	s.check, err = DeriveKey(master, purposeCheck)
	return &s, err
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}

// seal appends to dst a random nonce and the sealed plaintext.
func seal(dst []byte, aead cipher.AEAD, plaintext, ad []byte) []byte {
	n := len(dst)
	dst = append(dst, make([]byte, nonceSize)...)
	rand.Read(dst[n:]) // never fails (crypto/rand)
	return aead.Seal(dst, dst[n:n+nonceSize], plaintext, ad)
}

// open is the inverse of seal, on what seal appended.
func open(aead cipher.AEAD, v, ad []byte) ([]byte, error) {
	return openTo(aead, v, ad, false)
}

// openTo is open, writing the plaintext over v's ciphertext if inPlace.
func openTo(aead cipher.AEAD, v, ad []byte, inPlace bool) ([]byte, error) {
	if len(v) < nonceSize+aead.Overhead() {
		return nil, errors.New("sealed value is too short")
	}
	var dst []byte
	if inPlace {
		dst = v[nonceSize:nonceSize]
	}
	b, err := aead.Open(dst, v[:nonceSize], v[nonceSize:], ad)
	if err != nil {
		return nil, errors.New("sealed value does not open: wrong key, or moved or altered")
	}
	return b, nil
}

// additional returns the additional data of a sealed value: its kind, then
// its place.
func additional(kind string, place ...[]byte) []byte {
	return append([]byte(kind+"\x00"), bytes.Join(place, []byte{sep})...)
}

// checkMaster compares the master key's check value with the one stored in
// meta; none stored means the store is not sealed yet.
func (s *sealer) checkMaster(meta *bolt.Bucket) (sealed bool, err error) {
	stored := meta.Get(keyMasterCheck)
	if stored == nil {
		return false, nil
	}
	if subtle.ConstantTimeCompare(stored, s.check) != 1 {
		return true, fmt.Errorf("%w: the master key is not the one this store was sealed with: give the right key (a backup of it)", ErrMasterKey)
	}
	return true, nil
}

// createDataKey stores a new data key for request id, wrapped.
func (db *DB) createDataKey(tx *bolt.Tx, id string) (cipher.AEAD, error) {
	key := make([]byte, KeySize)
	rand.Read(key)
	v := seal([]byte{sealedTag}, db.sealer.wrap, key, additional(adDataKey, []byte(id)))
	if err := tx.Bucket(bucketDataKeys).Put([]byte(id), v); err != nil {
		return nil, err
	}
	return newAEAD(key)
}

// errNoDataKey is the cause when a request's data key is not stored: it
// was destroyed by a purge.
var errNoDataKey = fmt.Errorf("%w: the data key is destroyed", ErrPurged)

// dataKey returns the unwrapped data key of request id.
func (db *DB) dataKey(tx *bolt.Tx, id string) ([]byte, error) {
	v := tx.Bucket(bucketDataKeys).Get([]byte(id))
	if v == nil {
		return nil, errNoDataKey
	}
	if v[0] != sealedTag {
		return nil, errors.New("wrapped data key of unknown format")
	}
	key, err := open(db.sealer.wrap, v[1:], additional(adDataKey, []byte(id)))
	if err != nil {
		return nil, fmt.Errorf("data key: %w", err)
	}
	return key, nil
}

// requestKey returns the cipher of request id's data key.
func (db *DB) requestKey(tx *bolt.Tx, id string) (cipher.AEAD, error) {
	key, err := db.dataKey(tx, id)
	if err != nil {
		return nil, err
	}
	return newAEAD(key)
}

// DataKey returns the data key of a request, for the files kept for it
// outside the store (its media). Once the key is destroyed the error has
// code dsar.ENOTFOUND and wraps ErrPurged; a store without a master key
// has no data keys (EPRECONDITION).
func (db *DB) DataKey(ctx context.Context, id string) ([]byte, error) {
	const op = "store.DataKey"
	if db.sealer == nil {
		return nil, &dsar.Error{Code: dsar.EPRECONDITION, Op: op, Message: "the store has no master key, so no data keys"}
	}
	var key []byte
	err := db.view(ctx, op, func(tx *bolt.Tx) error {
		// The record, not the request: opening its email would unwrap
		// the data key once more.
		if _, err := getRequestRecord(tx, id); err != nil {
			return err
		}
		var err error
		key, err = db.dataKey(tx, id)
		return purgedOr(op, id, err)
	})
	return key, err
}

// purgedOr returns the error of a request whose data key is destroyed, or
// err.
func purgedOr(op, id string, err error) error {
	if errors.Is(err, ErrPurged) {
		return &dsar.Error{Code: dsar.ENOTFOUND, Op: op, Err: err,
			Message: fmt.Sprintf("the data of request %s was purged: its data key is destroyed", id)}
	}
	return err
}

// destroyDataKey deletes the wrapped data key of request id: its pages and
// email, and its media files outside the store, no longer open. The
// request's email must be replaced first (its record stays readable, with
// no email).
func (db *DB) destroyDataKey(tx *bolt.Tx, id string) error {
	return tx.Bucket(bucketDataKeys).Delete([]byte(id))
}

// sealEmail returns the sealed email of request id, "" stays "".
func (db *DB) sealEmail(tx *bolt.Tx, id, email string) ([]byte, error) {
	if email == "" {
		return nil, nil
	}
	aead, err := db.requestKey(tx, id)
	if err != nil {
		return nil, fmt.Errorf("sealing the email: %w", err)
	}
	return seal([]byte{sealedTag}, aead, []byte(email), additional(adEmail, []byte(id))), nil
}

// openEmail returns the email sealed in v. A destroyed data key gives "":
// the request's data is purged.
func (db *DB) openEmail(tx *bolt.Tx, id string, v []byte) (string, error) {
	if len(v) == 0 || v[0] != sealedTag {
		return "", errors.New("sealed email of unknown format")
	}
	if db.sealer == nil {
		return "", errors.New("the email is sealed and the store has no master key")
	}
	aead, err := db.requestKey(tx, id)
	switch {
	case errors.Is(err, ErrPurged):
		return "", nil
	case err != nil:
		return "", err
	}
	b, err := open(aead, v[1:], additional(adEmail, []byte(id)))
	if err != nil {
		return "", fmt.Errorf("email: %w", err)
	}
	return string(b), nil
}

// sealPage returns the stored page of key k: pageValue's header, then the
// compressed payload z sealed under the request's data key, bound to k and
// the header.
func sealPage(aead cipher.AEAD, k []byte, window int, z []byte) []byte {
	v := pageHeaderBytes(pageFormatSealed, window, len(z)+nonceSize+aead.Overhead())
	return seal(v, aead, z, pageAD(k, v))
}

func pageAD(k, header []byte) []byte { return additional(adPage, k, header) }

// sealGrant returns the stored grant of an account.
func (db *DB) sealGrant(account string, plain []byte) []byte {
	return seal([]byte{sealedTag}, db.sealer.grants, plain, additional(adGrant, []byte(account)))
}

// openGrant returns the JSON of a stored grant, sealed or not.
func (db *DB) openGrant(account string, v []byte) ([]byte, error) {
	if len(v) == 0 || v[0] != sealedTag {
		return v, nil
	}
	if db.sealer == nil {
		return nil, errors.New("the grant is sealed and the store has no master key")
	}
	return open(db.sealer.grants, v[1:], additional(adGrant, []byte(account)))
}
