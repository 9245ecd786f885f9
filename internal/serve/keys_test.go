package serve

import (
	"crypto/ed25519"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"
)

func newKey(t *testing.T) gossh.PublicKey {
	t.Helper()
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	k, err := gossh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestAuthorizedKeysReloadAndFailClosed(t *testing.T) {
	a, b := newKey(t), newKey(t)
	path := filepath.Join(t.TempDir(), "authorized_keys")
	write := func(content string) {
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		// Make the change visible even on a coarse-grained clock.
		later := time.Now().Add(time.Duration(len(content)) * time.Second)
		os.Chtimes(path, later, later)
	}
	write("# ops team\n\n" + string(gossh.MarshalAuthorizedKey(a)))
	keys, err := loadAuthorizedKeys(path)
	if err != nil {
		t.Fatal(err)
	}
	if ok, _ := keys.allows(a); !ok {
		t.Fatal("listed key refused")
	}
	if ok, _ := keys.allows(b); ok {
		t.Fatal("unlisted key allowed")
	}
	write(string(gossh.MarshalAuthorizedKey(b)) + "# a was revoked\n")
	if ok, _ := keys.allows(a); ok {
		t.Fatal("revoked key still allowed")
	}
	if ok, _ := keys.allows(b); !ok {
		t.Fatal("added key refused")
	}
	os.Remove(path)
	if ok, err := keys.allows(b); ok || err == nil {
		t.Fatalf("missing file: allowed %v, err %v; want refused with an error", ok, err)
	}
}

func TestAuthorizedKeysErrors(t *testing.T) {
	if _, err := loadAuthorizedKeys(""); err == nil {
		t.Fatal("no file accepted")
	}
	path := filepath.Join(t.TempDir(), "authorized_keys")
	os.WriteFile(path, []byte(string(gossh.MarshalAuthorizedKey(newKey(t)))+"not a key at all\n"), 0o600)
	if _, err := loadAuthorizedKeys(path); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Fatalf("bad line: %v", err)
	}
}
