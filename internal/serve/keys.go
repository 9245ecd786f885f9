package serve

import (
	"bytes"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/charmbracelet/ssh"
)

// authorizedKeys is an OpenSSH authorized_keys file, read again whenever it
// changes on disk, so a key removed from it is refused at the next login
// without a restart.
type authorizedKeys struct {
	path string

	mu      sync.Mutex
	modTime time.Time
	size    int64
	keys    []ssh.PublicKey
}

func loadAuthorizedKeys(path string) (*authorizedKeys, error) {
	if path == "" {
		return nil, fmt.Errorf("no --authorized-keys file: only listed keys may log in (or give --insecure-no-auth)")
	}
	a := &authorizedKeys{path: path}
	if err := a.refresh(); err != nil {
		return nil, err
	}
	return a, nil
}

func (a *authorizedKeys) refresh() error {
	st, err := os.Stat(a.path)
	if err != nil {
		return fmt.Errorf("authorized keys %s: %w", a.path, err)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if st.ModTime().Equal(a.modTime) && st.Size() == a.size && a.keys != nil {
		return nil
	}
	data, err := os.ReadFile(a.path)
	if err != nil {
		return fmt.Errorf("authorized keys %s: %w", a.path, err)
	}
	keys, err := parseAuthorizedKeys(data)
	if err != nil {
		return fmt.Errorf("authorized keys %s: %w", a.path, err)
	}
	a.keys, a.modTime, a.size = keys, st.ModTime(), st.Size()
	return nil
}

// parseAuthorizedKeys reads every key of the file; blank lines and comments
// are skipped, a line that is not a key is an error naming it.
func parseAuthorizedKeys(data []byte) ([]ssh.PublicKey, error) {
	keys := []ssh.PublicKey{}
	for i, line := range bytes.Split(data, []byte("\n")) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		k, _, _, _, err := ssh.ParseAuthorizedKey(line)
		if err != nil {
			return nil, fmt.Errorf("line %d: not a public key: %w", i+1, err)
		}
		keys = append(keys, k)
	}
	return keys, nil
}

// allows reports whether key is listed. When the file cannot be read any
// more, every login is refused: failing closed is the safe way.
func (a *authorizedKeys) allows(key ssh.PublicKey) (bool, error) {
	if err := a.refresh(); err != nil {
		return false, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, k := range a.keys {
		if ssh.KeysEqual(k, key) {
			return true, nil
		}
	}
	return false, nil
}
