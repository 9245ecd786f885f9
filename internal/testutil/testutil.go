// Package testutil has helpers shared by tests that drive the real binaries.
package testutil

import (
	"bytes"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	buildOnce sync.Map // package path → *builtBinary
)

type builtBinary struct {
	once sync.Once
	path string
	err  error
}

// RepoRoot returns the module root, found from this source file.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// Binary builds the command at pkg (e.g. "./cmd/tui") once per test process
// and returns the path of the executable.
func Binary(t testing.TB, pkg, name string) string {
	t.Helper()
	v, _ := buildOnce.LoadOrStore(pkg, &builtBinary{})
	b := v.(*builtBinary)
	b.once.Do(func() {
		dir, err := os.MkdirTemp("", "fleetwatch-bin-")
		if err != nil {
			b.err = err
			return
		}
		b.path = filepath.Join(dir, name)
		cmd := exec.Command("go", "build", "-o", b.path, pkg)
		cmd.Dir = RepoRoot()
		if out, err := cmd.CombinedOutput(); err != nil {
			b.err = &buildError{out: string(out), err: err}
		}
	})
	if b.err != nil {
		t.Fatalf("build %s: %v", pkg, b.err)
	}
	return b.path
}

type buildError struct {
	out string
	err error
}

func (e *buildError) Error() string { return e.err.Error() + "\n" + e.out }

// Require returns the path of an external tool, skipping the test when it
// is missing on a developer machine and failing it in CI, where .ci/run
// installs it.
func Require(t testing.TB, tool string) string {
	t.Helper()
	p, err := exec.LookPath(tool)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s not installed (CI installs it in .ci/run)", tool)
		}
		t.Skipf("%s not installed", tool)
	}
	return p
}

// Eventually polls cond every 50 ms until it holds, failing after limit.
func Eventually(t testing.TB, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", limit, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// FreeAddr returns a loopback address with a port free at the time of the call.
func FreeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// WaitPort waits until something accepts connections at addr.
func WaitPort(t testing.TB, addr string) {
	t.Helper()
	Eventually(t, 15*time.Second, "port "+addr, func() bool {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
}

// RealKafka returns the address of the real Kafka the integration tests run
// against (FLEETWATCH_TEST_KAFKA), skipping the test when none is given.
func RealKafka(t testing.TB) string {
	t.Helper()
	addr := os.Getenv("FLEETWATCH_TEST_KAFKA")
	if addr == "" {
		t.Skip("FLEETWATCH_TEST_KAFKA not set (make kafka-up, then FLEETWATCH_TEST_KAFKA=127.0.0.1:9092)")
	}
	return addr
}

// KcatProduce writes records with kcat, as another team's producer would:
// one "key|value" per line of data.
func KcatProduce(t testing.TB, brokers, topic, data string) {
	t.Helper()
	cmd := exec.Command(Require(t, "kcat"), "-P", "-b", brokers, "-t", topic, "-K", "|")
	cmd.Stdin = strings.NewReader(data)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("kcat -P: %v: %s", err, out)
	}
}

// EmbeddedBroker starts fleetsim's embedded Kafka-protocol broker on a free
// loopback port for the length of the test and returns its address.
func EmbeddedBroker(t testing.TB) string {
	t.Helper()
	sim := Binary(t, "./cmd/sim", "fleetsim")
	addr := FreeAddr(t)
	cmd := exec.Command(sim, "broker", "--listen", addr)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	WaitPort(t, addr)
	return addr
}

// SyncBuffer is a bytes.Buffer that a running command writes (its stdout or
// stderr) while the test reads it. The zero value is ready to use.
type SyncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns what was written so far.
func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
