package kafka

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/IBM/sarama"
	"github.com/xdg-go/scram"
)

// The security properties, in librdkafka/Java spelling, mapped onto sarama.
// Certificate and key files are read when the property is parsed, so a
// wrong path is a usage error before anything connects.
func init() {
	propSetters["security.protocol"] = func(c *clientConfig, v string) error {
		switch strings.ToUpper(v) {
		case "PLAINTEXT":
			c.Net.TLS.Enable, c.Net.SASL.Enable = false, false
		case "SSL":
			c.Net.TLS.Enable, c.Net.SASL.Enable = true, false
		case "SASL_PLAINTEXT":
			c.Net.TLS.Enable, c.Net.SASL.Enable = false, true
		case "SASL_SSL":
			c.Net.TLS.Enable, c.Net.SASL.Enable = true, true
		default:
			return fmt.Errorf("want PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL")
		}
		if c.Net.TLS.Enable && c.Net.TLS.Config == nil {
			c.Net.TLS.Config = &tls.Config{MinVersion: tls.VersionTLS12}
		}
		return nil
	}
	propSetters["sasl.mechanism"] = func(c *clientConfig, v string) error {
		switch strings.ToUpper(v) {
		case "PLAIN":
			c.Net.SASL.Mechanism = sarama.SASLTypePlaintext
		case "SCRAM-SHA-256":
			c.Net.SASL.Mechanism = sarama.SASLTypeSCRAMSHA256
			c.Net.SASL.SCRAMClientGeneratorFunc = func() sarama.SCRAMClient { return &scramClient{hash: scram.SHA256} }
		case "SCRAM-SHA-512":
			c.Net.SASL.Mechanism = sarama.SASLTypeSCRAMSHA512
			c.Net.SASL.SCRAMClientGeneratorFunc = func() sarama.SCRAMClient { return &scramClient{hash: scram.SHA512} }
		default:
			return fmt.Errorf("want PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512")
		}
		return nil
	}
	propSetters["sasl.username"] = func(c *clientConfig, v string) error { c.Net.SASL.User = v; return nil }
	propSetters["sasl.password"] = func(c *clientConfig, v string) error { c.Net.SASL.Password = v; return nil }
	propSetters["ssl.ca.location"] = func(c *clientConfig, v string) error {
		pem, err := os.ReadFile(v)
		if err != nil {
			return err
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return fmt.Errorf("no PEM certificate in %s", v)
		}
		tlsConfig(c).RootCAs = pool
		return nil
	}
	propSetters["ssl.certificate.location"] = func(c *clientConfig, v string) error {
		_, err := os.Stat(v)
		c.certFile = v
		return err
	}
	propSetters["ssl.key.location"] = func(c *clientConfig, v string) error {
		_, err := os.Stat(v)
		c.keyFile = v
		return err
	}
	propSetters["enable.ssl.certificate.verification"] = func(c *clientConfig, v string) error {
		on, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("want true or false")
		}
		tlsConfig(c).InsecureSkipVerify = !on
		return nil
	}
}

func tlsConfig(c *clientConfig) *tls.Config {
	if c.Net.TLS.Config == nil {
		c.Net.TLS.Config = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	return c.Net.TLS.Config
}

// finish does what needs several properties together: the client key pair,
// and credentials for SASL.
func (c *clientConfig) finish() error {
	switch {
	case c.certFile != "" && c.keyFile == "":
		return fmt.Errorf("-X ssl.certificate.location needs -X ssl.key.location")
	case c.keyFile != "" && c.certFile == "":
		return fmt.Errorf("-X ssl.key.location needs -X ssl.certificate.location")
	case c.certFile != "":
		pair, err := tls.LoadX509KeyPair(c.certFile, c.keyFile)
		if err != nil {
			return fmt.Errorf("-X ssl.certificate.location/ssl.key.location: %w", err)
		}
		tlsConfig(c).Certificates = []tls.Certificate{pair}
	}
	if c.Net.SASL.Enable && (c.Net.SASL.User == "" || c.Net.SASL.Password == "") {
		return fmt.Errorf("-X security.protocol=SASL_*: needs -X sasl.username and -X sasl.password")
	}
	return nil
}

// scramClient adapts xdg-go/scram to sarama's SCRAM interface.
type scramClient struct {
	hash scram.HashGeneratorFcn
	conv *scram.ClientConversation
}

func (s *scramClient) Begin(user, password, authzID string) error {
	client, err := s.hash.NewClient(user, password, authzID)
	if err != nil {
		return err
	}
	s.conv = client.NewConversation()
	return nil
}

func (s *scramClient) Step(challenge string) (string, error) { return s.conv.Step(challenge) }

func (s *scramClient) Done() bool { return s.conv.Done() }
