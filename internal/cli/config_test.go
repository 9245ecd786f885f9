package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

func optionsFor(t *testing.T, args ...string) (brokers string, props map[string]string, err error) {
	t.Helper()
	fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
	var c connFlags
	c.register(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	o, err := c.options()
	return strings.Join(o.Brokers, ","), o.Props, err
}

func TestNamedClusters(t *testing.T) {
	t.Setenv("FLEETWATCH_BROKERS", "")
	t.Setenv("FLEET_PW", "s3cret")
	path := filepath.Join(t.TempDir(), "config.yaml")
	os.WriteFile(path, []byte(`default: local
clusters:
  local:
    brokers: [localhost:9092]
  prod:
    brokers: [k1:9093, k2:9093]
    properties:
      security.protocol: SASL_PLAINTEXT
      sasl.mechanism: SCRAM-SHA-512
      sasl.username: fleet
      sasl.password: ${FLEET_PW}
`), 0o600)
	tests := []struct {
		name        string
		args        []string
		env         string
		wantBrokers string
		wantProp    [2]string
		wantErr     string
	}{
		{"the file's default", []string{"--config", path}, "", "localhost:9092", [2]string{}, ""},
		{"a named cluster, secret from the environment", []string{"--config", path, "--cluster", "prod"}, "", "k1:9093,k2:9093",
			[2]string{"sasl.password", "s3cret"}, ""},
		{"-X overrides the cluster", []string{"--config", path, "--cluster", "prod", "-X", "sasl.username=ops"}, "", "k1:9093,k2:9093",
			[2]string{"sasl.username", "ops"}, ""},
		{"-b overrides the cluster", []string{"--config", path, "--cluster", "prod", "-b", "x:1"}, "", "x:1", [2]string{}, ""},
		{"the environment overrides the cluster", []string{"--config", path, "--cluster", "prod"}, "env:9", "env:9", [2]string{}, ""},
		{"unknown cluster", []string{"--config", path, "--cluster", "staging"}, "", "", [2]string{}, `no cluster "staging"; it has: local, prod`},
		{"missing file named", []string{"--config", path + ".nope"}, "", "", [2]string{}, "config"},
		{"a named file must exist", []string{"--config", path + ".nope2", "--cluster", "prod"}, "", "", [2]string{}, "config"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("FLEETWATCH_BROKERS", tt.env)
			brokers, props, err := optionsFor(t, tt.args...)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if brokers != tt.wantBrokers {
				t.Errorf("brokers %q, want %q", brokers, tt.wantBrokers)
			}
			if k := tt.wantProp[0]; k != "" && props[k] != tt.wantProp[1] {
				t.Errorf("%s = %q, want %q", k, props[k], tt.wantProp[1])
			}
		})
	}
	// Without a config file at the default place, nothing changes.
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	t.Setenv("HOME", t.TempDir())
	if brokers, _, err := optionsFor(t); err != nil || brokers != "localhost:9092" {
		t.Fatalf("no config: %q, %v", brokers, err)
	}
}
