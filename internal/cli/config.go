package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// clusterConfig is the config file: named clusters, like kcat's and kaf's
// profiles, so `--cluster prod` replaces a line of -b and -X flags.
//
//	default: local
//	clusters:
//	  local:
//	    brokers: [localhost:9092]
//	  prod:
//	    brokers: [kafka1:9093, kafka2:9093]
//	    properties:
//	      security.protocol: SASL_SSL
//	      sasl.mechanism: SCRAM-SHA-512
//	      sasl.username: fleet
//	      sasl.password: ${FLEET_KAFKA_PASSWORD}
type clusterConfig struct {
	Default  string             `yaml:"default"`
	Clusters map[string]cluster `yaml:"clusters"`
}

type cluster struct {
	Brokers    []string          `yaml:"brokers"`
	Properties map[string]string `yaml:"properties"`
}

func defaultConfigPath() string {
	dir, err := os.UserConfigDir()
	if err != nil {
		return ""
	}
	return filepath.Join(dir, "fleetwatch", "config.yaml")
}

// loadCluster returns the cluster to use: the named one, or the file's
// default; nil when there is no file and none was asked for. Values may name
// environment variables as ${NAME}, so secrets stay out of the file.
func loadCluster(path, name string, explicitPath bool) (*cluster, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) && !explicitPath && name == "" {
		return nil, nil
	}
	if err != nil {
		return nil, usagef("config %s: %v", path, err)
	}
	var cfg clusterConfig
	if err := yaml.Unmarshal(data, &cfg); err != nil {
		return nil, usagef("config %s: %v", path, err)
	}
	if name == "" {
		name = cfg.Default
	}
	if name == "" {
		return nil, nil
	}
	c, ok := cfg.Clusters[name]
	if !ok {
		var names []string
		for n := range cfg.Clusters {
			names = append(names, n)
		}
		sort.Strings(names)
		return nil, usagef("config %s: no cluster %q; it has: %s", path, name, strings.Join(names, ", "))
	}
	if len(c.Brokers) == 0 {
		return nil, usagef("config %s: cluster %q has no brokers", path, name)
	}
	for k, v := range c.Properties {
		c.Properties[k] = os.ExpandEnv(v)
	}
	return &c, nil
}

// propsList turns a cluster's properties into -X style key=value strings,
// in a stable order.
func (c *cluster) propsList() []string {
	var out []string
	for k, v := range c.Properties {
		out = append(out, fmt.Sprintf("%s=%s", k, v))
	}
	sort.Strings(out)
	return out
}
