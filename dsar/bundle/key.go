package bundle

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Key files are PEM, as OpenSSL writes them: the private key as PKCS #8
// ("PRIVATE KEY"), the public key as PKIX ("PUBLIC KEY"). So an auditor
// without dsarctl can check a bundle with
//
//	openssl pkeyutl -verify -pubin -inkey pub.pem -rawin \
//	    -in manifest.json -sigfile manifest.sig

// Fingerprint names a public key in manifests and logs: "SHA256:" and the
// unpadded base64 of the SHA-256 of the 32-byte key.
func Fingerprint(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return "SHA256:" + base64.RawStdEncoding.EncodeToString(sum[:])
}

// MarshalPrivateKey encodes key as a PEM PKCS #8 block.
func MarshalPrivateKey(key ed25519.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("bundle: encode private key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// ParsePrivateKey decodes a PEM PKCS #8 Ed25519 private key.
func ParsePrivateKey(b []byte) (ed25519.PrivateKey, error) {
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "PRIVATE KEY" {
		return nil, errors.New("bundle: private key: no PEM \"PRIVATE KEY\" block")
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("bundle: private key: %w", err)
	}
	key, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, errors.New("bundle: private key: not an Ed25519 key")
	}
	return key, nil
}

// MarshalPublicKey encodes pub as a PEM PKIX block.
func MarshalPublicKey(pub ed25519.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("bundle: encode public key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}

// ParsePublicKey decodes a PEM PKIX Ed25519 public key.
func ParsePublicKey(b []byte) (ed25519.PublicKey, error) {
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "PUBLIC KEY" {
		return nil, errors.New("bundle: public key: no PEM \"PUBLIC KEY\" block")
	}
	k, err := x509.ParsePKIXPublicKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("bundle: public key: %w", err)
	}
	pub, ok := k.(ed25519.PublicKey)
	if !ok {
		return nil, errors.New("bundle: public key: not an Ed25519 key")
	}
	return pub, nil
}

// LoadKey reads a private key file.
func LoadKey(name string) (ed25519.PrivateKey, error) {
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("bundle: load key: %w", err)
	}
	return ParsePrivateKey(b)
}

// LoadPublicKey reads a public key file.
func LoadPublicKey(name string) (ed25519.PublicKey, error) {
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("bundle: load public key: %w", err)
	}
	return ParsePublicKey(b)
}

// LoadOrCreateKey reads the private key file name, or, if there is none,
// generates a key and writes it (mode 0600) together with its public key
// in name+".pub". dsard calls it on start when no key is configured.
// created reports whether the key is new.
func LoadOrCreateKey(name string) (key ed25519.PrivateKey, created bool, err error) {
	key, err = LoadKey(name)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return key, false, err
	}
	_, key, err = ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, false, fmt.Errorf("bundle: generate key: %w", err)
	}
	priv, err := MarshalPrivateKey(key)
	if err != nil {
		return nil, false, err
	}
	pub, err := MarshalPublicKey(key.Public().(ed25519.PublicKey))
	if err != nil {
		return nil, false, err
	}
	if err := os.MkdirAll(filepath.Dir(name), 0o700); err != nil {
		return nil, false, fmt.Errorf("bundle: create key: %w", err)
	}
	// O_EXCL: two servers starting at once must not overwrite each other's key.
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		key, err = LoadKey(name)
		return key, false, err
	}
	if err != nil {
		return nil, false, fmt.Errorf("bundle: create key: %w", err)
	}
	_, err = f.Write(priv)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.WriteFile(name+".pub", pub, 0o644)
	}
	if err != nil {
		return nil, false, fmt.Errorf("bundle: create key: %w", err)
	}
	return key, true, nil
}
