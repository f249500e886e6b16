package store

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// A master key file holds the key in hex on one line, so that it can be
// printed, backed up and restored as text.

// LoadMasterKey reads the master key file name.
func LoadMasterKey(name string) ([]byte, error) {
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("master key: %w", err)
	}
	key, err := hex.DecodeString(string(bytes.TrimSpace(b)))
	if err != nil || len(key) != KeySize {
		return nil, fmt.Errorf("master key %s: want %d bytes in hex on one line", name, KeySize)
	}
	return key, nil
}

// LoadOrCreateMasterKey reads the master key file name, or creates it
// (mode 0600) with a new random key if it does not exist.
func LoadOrCreateMasterKey(name string) (key []byte, created bool, err error) {
	key, err = LoadMasterKey(name)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return key, false, err
	}
	key = make([]byte, KeySize)
	rand.Read(key)
	if err := os.MkdirAll(filepath.Dir(name), 0o700); err != nil {
		return nil, false, fmt.Errorf("master key: %w", err)
	}
	// O_EXCL: two servers starting at once must not overwrite each other's key.
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		key, err = LoadMasterKey(name)
		return key, false, err
	}
	if err != nil {
		return nil, false, fmt.Errorf("master key: %w", err)
	}
	_, err = f.WriteString(hex.EncodeToString(key) + "\n")
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = syncDir(filepath.Dir(name))
	}
	if err != nil {
		_ = os.Remove(name)
		return nil, false, fmt.Errorf("master key: %w", err)
	}
	return key, true, nil
}
