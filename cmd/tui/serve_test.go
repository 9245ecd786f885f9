package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/fleetwatch/fleetwatch/internal/testutil"
)

// sshServer is `fleetwatch serve --demo` running as its own process, with
// keys made by ssh-keygen, as an operator would set it up.
type sshServer struct {
	t       *testing.T
	dir     string
	addr    string
	port    string
	cmd     *exec.Cmd
	logPath string
	stderr  *bytes.Buffer
}

func keygen(t *testing.T, path string) {
	t.Helper()
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", filepath.Base(path), "-f", path).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v: %s", err, out)
	}
}

func startServe(t *testing.T, extra ...string) *sshServer {
	t.Helper()
	testutil.Require(t, "ssh")
	testutil.Require(t, "ssh-keygen")
	bin := testutil.Binary(t, "./cmd/tui", "fleetwatch")
	s := &sshServer{t: t, dir: t.TempDir(), stderr: &bytes.Buffer{}}
	keygen(t, filepath.Join(s.dir, "viewer"))
	keygen(t, filepath.Join(s.dir, "stranger"))
	pub, err := os.ReadFile(filepath.Join(s.dir, "viewer.pub"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(s.dir, "authorized_keys"), pub, 0o600); err != nil {
		t.Fatal(err)
	}
	s.addr = testutil.FreeAddr(t)
	s.port = s.addr[strings.LastIndex(s.addr, ":")+1:]
	s.logPath = filepath.Join(s.dir, "serve.log")
	args := append([]string{"serve", "--demo", "--listen", s.addr, "--host-key", filepath.Join(s.dir, "host_ed25519"),
		"--authorized-keys", filepath.Join(s.dir, "authorized_keys"), "--log", s.logPath}, extra...)
	s.cmd = exec.Command(bin, args...)
	s.cmd.Stderr = s.stderr
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if s.cmd.ProcessState == nil {
			s.cmd.Process.Kill()
			s.cmd.Wait()
		}
	})
	testutil.WaitPort(t, s.addr)
	return s
}

func (s *sshServer) sshArgs(key string) []string {
	args := []string{"-p", s.port, "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
		"-o", "BatchMode=yes", "-o", "LogLevel=ERROR"}
	if key != "" {
		args = append(args, "-o", "IdentitiesOnly=yes", "-i", filepath.Join(s.dir, key))
	} else {
		args = append(args, "-o", "PubkeyAuthentication=no")
	}
	return args
}

// sshRun runs the OpenSSH client without a terminal and returns its output and exit code.
func sshRun(s *sshServer, key string, extra ...string) (string, string, int) {
	var out, errOut bytes.Buffer
	cmd := exec.Command("ssh", append(append(s.sshArgs(key), extra...), "watcher@127.0.0.1")...)
	cmd.Stdin = strings.NewReader("")
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	}
	return out.String(), errOut.String(), code
}

// viewer opens an interactive ssh session in tmux, as a person would.
func (s *sshServer) viewer(key string, cols, rows int) *tmuxSession {
	cmd := "ssh -t " + strings.Join(s.sshArgs(key), " ") + " watcher@127.0.0.1"
	return startTmux(s.t, cols, rows, cmd)
}

func (s *sshServer) log() string {
	b, _ := os.ReadFile(s.logPath)
	return string(b)
}

func showsLiveMap(sc string) bool {
	m := vehiclesRE.FindStringSubmatch(sc)
	return m != nil && m[1] != "0" && hasBraille(sc) && strings.ContainsAny(sc, "●■")
}

func TestServeLoginsAndRefusals(t *testing.T) {
	s := startServe(t)
	v := s.viewer("viewer", 110, 32)
	v.waitFor(20*time.Second, "the map over ssh", showsLiveMap)

	for _, tt := range []struct{ name, key string }{{"unknown key", "stranger"}, {"no key", ""}} {
		_, errOut, code := sshRun(s, tt.key)
		if code != 255 || !strings.Contains(errOut, "Permission denied") {
			t.Errorf("%s: exit %d, stderr %q; want refused", tt.name, code, errOut)
		}
	}

	// Revoking the key refuses the next login without a restart.
	if err := os.WriteFile(filepath.Join(s.dir, "authorized_keys"), []byte("# nobody\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, errOut, code := sshRun(s, "viewer"); code != 255 || !strings.Contains(errOut, "Permission denied") {
		t.Errorf("revoked key: exit %d, %q", code, errOut)
	}

	v.keys("q")
	v.waitFor(10*time.Second, "viewer exit", func(sc string) bool { return strings.Contains(sc, "EXITED 0") })
	testutil.Eventually(t, 5*time.Second, "log lines", func() bool {
		l := s.log()
		return strings.Contains(l, `"session start"`) && strings.Contains(l, `"session end"`) &&
			strings.Count(l, `"login refused"`) >= 2 && strings.Contains(l, `"connection refused"`)
	})
	if st, err := os.Stat(filepath.Join(s.dir, "host_ed25519")); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("host key: %v, mode %v", err, st.Mode().Perm())
	}
	if strings.Contains(v.screen(), "session start") {
		t.Error("log lines reached a viewer's screen")
	}
}

// Twenty viewers at once all see live frames; one leaving disturbs no one;
// SIGTERM ends every session and the server cleanly.
func TestServeManyViewers(t *testing.T) {
	s := startServe(t)
	const n = 20
	viewers := make([]*tmuxSession, n)
	for i := range viewers {
		viewers[i] = s.viewer("viewer", 100, 30)
	}
	first := make([]string, n)
	var wg sync.WaitGroup
	for i, v := range viewers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			first[i] = mapArea(v.waitFor(30*time.Second, fmt.Sprintf("viewer %d's map", i), showsLiveMap), 60)
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	viewers[0].keys("q")
	viewers[0].waitFor(10*time.Second, "viewer 0 exit", func(sc string) bool { return strings.Contains(sc, "EXITED 0") })
	for i, v := range viewers[1:] {
		v.waitFor(10*time.Second, fmt.Sprintf("viewer %d's map to move", i+1), func(sc string) bool {
			return showsLiveMap(sc) && mapArea(sc, 60) != first[i+1]
		})
	}
	// Each viewer has its own view: zooming one leaves the others whole.
	// The south terminal tells: zoomed in on the middle, a station named
	// for the north-west one (Western (O'Hare branch)) may be in view.
	viewers[1].keys("+", "+", "+")
	viewers[1].waitFor(5*time.Second, "viewer 1 zoomed", func(sc string) bool { return !strings.Contains(sc, "95th/Dan Ryan") })
	if sc := viewers[2].screen(); !strings.Contains(sc, "95th/Dan Ryan") {
		t.Errorf("zooming viewer 1 changed viewer 2:\n%s", sc)
	}

	// A viewer whose terminal stops reading (its ssh client frozen) stalls
	// no one: the others keep getting live frames.
	frozen := viewers[3].clientPID()
	if err := syscall.Kill(frozen, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	for i := 4; i < 8; i++ {
		before := mapArea(viewers[i].screen(), 60)
		viewers[i].waitFor(10*time.Second, fmt.Sprintf("viewer %d to move while viewer 3 is frozen", i), func(sc string) bool {
			return mapArea(sc, 60) != before
		})
	}
	syscall.Kill(frozen, syscall.SIGCONT)

	// Each viewer's terminal size is its own: a resize reflows only that screen.
	if out, err := exec.Command("tmux", "resize-window", "-t", viewers[5].name, "-x", "80", "-y", "24").CombinedOutput(); err != nil {
		t.Fatalf("resize: %v: %s", err, out)
	}
	viewers[5].waitFor(10*time.Second, "viewer 5 at 80×24", func(sc string) bool {
		lines := strings.Split(strings.TrimRight(sc, "\n"), "\n")
		return len(lines) == 24 && strings.Contains(lines[0], "fleetwatch") && strings.Contains(lines[23], "q quit")
	})

	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("server exit: %v; stderr %s", err, s.stderr)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("server did not stop within 15 s of SIGTERM")
	}
	for i, v := range viewers[1:] {
		v.waitFor(10*time.Second, fmt.Sprintf("viewer %d's session to end", i+1), func(sc string) bool { return strings.Contains(sc, "EXITED") })
	}
	sc := bufio.NewScanner(strings.NewReader(s.log()))
	starts, ends := 0, 0
	for sc.Scan() {
		if strings.Contains(sc.Text(), `"session start"`) {
			starts++
		}
		if strings.Contains(sc.Text(), `"session end"`) {
			ends++
		}
	}
	if starts != n || ends != n {
		t.Errorf("log has %d session starts and %d ends, want %d each; log:\n%s", starts, ends, n, s.log())
	}
}

func TestServeMaxSessionsAndUsage(t *testing.T) {
	s := startServe(t, "--max-sessions", "1")
	v := s.viewer("viewer", 100, 30)
	v.waitFor(20*time.Second, "the map", showsLiveMap)
	out, errOut, code := sshRun(s, "viewer", "-tt")
	if code != 1 || !strings.Contains(out+errOut, "too many viewers") {
		t.Errorf("second viewer over the limit: exit %d, %q %q", code, out, errOut)
	}
	v.keys("q")

	bin := testutil.Binary(t, "./cmd/tui", "fleetwatch")
	cmd := exec.Command(bin, "serve", "--demo")
	out2, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 || !strings.Contains(string(out2), "--authorized-keys is required") {
		t.Errorf("serve without keys: %v: %s", err, out2)
	}
}

// clientPID is the pid of the program running in the tmux pane's shell.
func (s *tmuxSession) clientPID() int {
	out, err := exec.Command("tmux", "list-panes", "-t", s.name, "-F", "#{pane_pid}").Output()
	if err != nil {
		s.t.Fatal(err)
	}
	children, err := exec.Command("pgrep", "-P", strings.TrimSpace(string(out)), "ssh").Output()
	if err != nil {
		s.t.Fatalf("no ssh under the pane: %v", err)
	}
	pid, err := strconv.Atoi(strings.Fields(string(children))[0])
	if err != nil {
		s.t.Fatal(err)
	}
	return pid
}

// Without authentication, anyone may watch, and the server says so.
func TestServeInsecureNoAuth(t *testing.T) {
	testutil.Require(t, "ssh")
	bin := testutil.Binary(t, "./cmd/tui", "fleetwatch")
	addr := testutil.FreeAddr(t)
	var stderr bytes.Buffer
	cmd := exec.Command(bin, "serve", "--demo", "--insecure-no-auth", "--listen", addr,
		"--host-key", filepath.Join(t.TempDir(), "host"), "--log", filepath.Join(t.TempDir(), "log"))
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	testutil.WaitPort(t, addr)
	s := &sshServer{t: t, addr: addr, port: addr[strings.LastIndex(addr, ":")+1:]}
	v := s.viewer("", 100, 30)
	v.waitFor(20*time.Second, "the map without a key", showsLiveMap)
	v.keys("q")
	cmd.Process.Signal(syscall.SIGTERM)
	cmd.Wait()
	if !strings.Contains(stderr.String(), "warning: --insecure-no-auth") {
		t.Errorf("no warning on stderr: %q", stderr.String())
	}
}

// A terminal that answers no query (some web and embedded terminals, a
// script behind a pty) still gets the screen: the server does not wait for
// its background colour. The client here sends nothing at all.
func TestServeTerminalThatAnswersNothing(t *testing.T) {
	s := startServe(t)
	key, err := os.ReadFile(filepath.Join(s.dir, "viewer"))
	if err != nil {
		t.Fatal(err)
	}
	signer, err := gossh.ParsePrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := gossh.Dial("tcp", s.addr, &gossh.ClientConfig{User: "watcher", Auth: []gossh.AuthMethod{gossh.PublicKeys(signer)},
		HostKeyCallback: gossh.InsecureIgnoreHostKey(), Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	sess, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	if err := sess.RequestPty("xterm-256color", 30, 100, gossh.TerminalModes{}); err != nil {
		t.Fatal(err)
	}
	stdin, err := sess.StdinPipe() // held open and never written: no query is answered
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	out := &testutil.SyncBuffer{}
	sess.Stdout = out
	if err := sess.Shell(); err != nil {
		t.Fatal(err)
	}
	// Before the fix nothing came after the query, however long; 45 s is
	// for a demo starting on a loaded machine (20 s failed once there).
	deadline := time.Now().Add(45 * time.Second)
	for !(strings.Contains(out.String(), "vehicles on") && hasBraille(out.String())) {
		if time.Now().After(deadline) {
			t.Fatalf("no screen after 45 s; the terminal got %q", tail(out.String(), 300))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func tail(s string, n int) string { return s[max(0, len(s)-n):] }
