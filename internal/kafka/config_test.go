package kafka

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"
)

// writePEMPair makes a self-signed certificate and its key as PEM files.
func writePEMPair(t *testing.T) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "fleetwatch test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalPKCS8PrivateKey(key)
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600)
	return certFile, keyFile
}

func configFrom(t *testing.T, props ...string) (*sarama.Config, error) {
	t.Helper()
	p, err := ParseProps(props)
	if err != nil {
		return nil, err
	}
	return Options{Brokers: []string{"b:9092"}, Props: p}.saramaConfig(nil)
}

func TestSecurityProperties(t *testing.T) {
	cert, key := writePEMPair(t)
	c, err := configFrom(t, "security.protocol=SASL_SSL", "sasl.mechanism=SCRAM-SHA-512", "sasl.username=fleet",
		"sasl.password=secret", "ssl.ca.location="+cert, "ssl.certificate.location="+cert, "ssl.key.location="+key,
		"client.id=ops", "acks=1", "compression.type=zstd", "enable.ssl.certificate.verification=false")
	if err != nil {
		t.Fatal(err)
	}
	switch {
	case !c.Net.TLS.Enable || !c.Net.SASL.Enable:
		t.Error("SASL_SSL did not enable TLS and SASL")
	case c.Net.SASL.Mechanism != sarama.SASLTypeSCRAMSHA512 || c.Net.SASL.SCRAMClientGeneratorFunc == nil:
		t.Error("SCRAM-SHA-512 not set up")
	case c.Net.SASL.User != "fleet" || c.Net.SASL.Password != "secret":
		t.Error("credentials")
	case c.Net.TLS.Config.RootCAs == nil || len(c.Net.TLS.Config.Certificates) != 1 || !c.Net.TLS.Config.InsecureSkipVerify:
		t.Error("TLS settings")
	case c.ClientID != "ops" || c.Producer.RequiredAcks != sarama.WaitForLocal || c.Producer.Compression != sarama.CompressionZSTD:
		t.Error("client settings")
	}
	if c, err := configFrom(t, "security.protocol=SSL"); err != nil || !c.Net.TLS.Enable || c.Net.SASL.Enable {
		t.Errorf("SSL: %v", err)
	}
	if c, err := configFrom(t, "security.protocol=sasl_plaintext", "sasl.username=u", "sasl.password=p"); err != nil ||
		c.Net.TLS.Enable || !c.Net.SASL.Enable || c.Net.SASL.Mechanism != sarama.SASLTypePlaintext {
		t.Errorf("SASL_PLAINTEXT defaults to PLAIN: %v", err)
	}
}

func TestBadPropertiesNameThemselves(t *testing.T) {
	cert, _ := writePEMPair(t)
	tests := []struct {
		props []string
		want  string
	}{
		{[]string{"bogus=1"}, "bogus"},
		{[]string{"client.id"}, "key=value"},
		{[]string{"security.protocol=TLS"}, "security.protocol"},
		{[]string{"sasl.mechanism=GSSAPI"}, "sasl.mechanism"},
		{[]string{"ssl.ca.location=/nonexistent.pem"}, "ssl.ca.location"},
		{[]string{"ssl.certificate.location=" + cert}, "needs -X ssl.key.location"},
		{[]string{"security.protocol=SASL_SSL"}, "sasl.username"},
		{[]string{"acks=2"}, "acks"},
		{[]string{"enable.idempotence=maybe"}, "enable.idempotence"},
		{[]string{"compression.type=brotli"}, "compression.type"},
		{[]string{"request.timeout.ms=-5"}, "request.timeout.ms"},
	}
	for _, tt := range tests {
		_, err := ParseProps(tt.props)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: error %v, want it to name %q", tt.props, err, tt.want)
		}
	}
}

// --from takes the keywords and every moment the other time flags take.
func TestParseStart(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	for in, want := range map[string]Start{
		"latest":               {Mode: StartLatest},
		" Earliest ":           {Mode: StartEarliest},
		"15m":                  {Mode: StartTime, Time: now.Add(-15 * time.Minute)},
		"2d":                   {Mode: StartTime, Time: now.Add(-48 * time.Hour)},
		"2026-11-30T08:00:00Z": {Mode: StartTime, Time: time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)},
	} {
		if got, err := ParseStart(in, now); err != nil || got.Mode != want.Mode || !got.Time.Equal(want.Time) {
			t.Errorf("ParseStart(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	if _, err := ParseStart("soonish", now); err == nil {
		t.Error("ParseStart accepted soonish")
	}
}
