package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/goccy/go-yaml"

	"github.com/jwtgate/jwtgate/server/config"
)

// readRepoFile reads a file at the repository root.
func readRepoFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestDockerfileBuildsLikeMake checks that the image's binary is built by
// the Makefile's build target, so that it has the release flags, and that
// the Makefile's build is static and stamps the version.
func TestDockerfileBuildsLikeMake(t *testing.T) {
	docker := readRepoFile(t, "deploy/Dockerfile")
	if !regexp.MustCompile(`(?m)^RUN .*\bmake build\b`).MatchString(docker) || strings.Contains(docker, "go build") {
		t.Error("deploy/Dockerfile must build with 'make build' (the Makefile's flags), not its own go build")
	}
	stages := regexp.MustCompile(`(?m)^FROM (\S+)`).FindAllStringSubmatch(docker, -1)
	if len(stages) < 2 || !strings.Contains(stages[len(stages)-1][1], "distroless/static") || !strings.HasSuffix(stages[len(stages)-1][1], ":nonroot") {
		t.Errorf("final stage %v: want distroless/static:nonroot (a static binary, no root)", stages)
	}
	if users := regexp.MustCompile(`(?m)^USER (\S+)`).FindAllStringSubmatch(docker, -1); len(users) == 0 || strings.HasPrefix(users[len(users)-1][1], "root") || strings.HasPrefix(users[len(users)-1][1], "0") {
		t.Errorf("USER %v: the image must run as a non-root user", users)
	}

	mk := readRepoFile(t, "Makefile")
	build := regexp.MustCompile(`(?m)^build:\n\t(.+)$`).FindStringSubmatch(mk)
	if build == nil || !strings.Contains(build[1], "CGO_ENABLED=0") || !strings.Contains(build[1], "$(BUILDFLAGS)") || !strings.Contains(build[1], "$(BIN)") {
		t.Fatalf("Makefile build recipe %q: want CGO_ENABLED=0 go build $(BUILDFLAGS) -o $(BIN)", build)
	}
	flags := regexp.MustCompile(`(?m)^BUILDFLAGS\s*=\s*(.+)$`).FindStringSubmatch(mk)
	if flags == nil || !strings.Contains(flags[1], "-trimpath") || !strings.Contains(flags[1], "-X github.com/jwtgate/jwtgate/internal/version.stamped=$(VERSION)") {
		t.Errorf("Makefile BUILDFLAGS %q: want -trimpath and the version stamp", flags)
	}
}

// TestSystemdUnit checks the hardening of deploy/jwtgate.service and, when
// systemd is installed, that systemd-analyze verify accepts every line.
func TestSystemdUnit(t *testing.T) {
	unit := readRepoFile(t, "deploy/jwtgate.service")
	for _, want := range []string{
		"ExecStart=/usr/local/bin/jwtgate serve --config /etc/jwtgate/jwtgate.yaml",
		"ExecReload=/bin/kill -HUP $MAINPID", "KillSignal=SIGTERM",
		"DynamicUser=yes", "NoNewPrivileges=yes", "ProtectSystem=strict", "ProtectHome=yes",
		"CapabilityBoundingSet=\n", "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX",
		"SystemCallFilter=@system-service", "MemoryDenyWriteExecute=yes", "LimitNOFILE=",
		"PrivateTmp=yes", "PrivateDevices=yes", "RestrictNamespaces=yes",
	} {
		if !strings.Contains(unit, want) {
			t.Errorf("deploy/jwtgate.service lacks %q", want)
		}
	}
	stop := regexp.MustCompile(`(?m)^TimeoutStopSec=(\d+)s$`).FindStringSubmatch(unit)
	if stop == nil || atoi(stop[1]) <= 35 {
		t.Errorf("TimeoutStopSec %v: want more than the drain period (5s) + limits.shutdown_timeout (30s)", stop)
	}

	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze is not installed (apt-get install systemd); the unit's syntax is not checked")
	}
	// verify needs ExecStart's binary to exist: point it at this test binary.
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "jwtgate.service")
	os.WriteFile(path, []byte(strings.ReplaceAll(unit, "/usr/local/bin/jwtgate", self)), 0o644)
	out, err := exec.Command(analyze, "verify", "--man=no", path).CombinedOutput()
	if err != nil || bytes.Contains(out, []byte("jwtgate.service")) {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}

// TestKubernetesExample checks deploy/kubernetes.yaml: its configuration is
// valid for jwtgate, the probes use /readyz and /healthz, and the grace
// period outlasts preStop, the drain period and the shutdown timeout.
func TestKubernetesExample(t *testing.T) {
	var cfgYAML string
	var dep struct {
		Spec struct {
			Template struct {
				Spec struct {
					TerminationGracePeriodSeconds int `yaml:"terminationGracePeriodSeconds"`
					Containers                    []struct {
						ReadinessProbe struct {
							HTTPGet struct{ Path string } `yaml:"httpGet"`
						} `yaml:"readinessProbe"`
						LivenessProbe struct {
							HTTPGet struct{ Path string } `yaml:"httpGet"`
						} `yaml:"livenessProbe"`
						Lifecycle struct {
							PreStop struct{ Sleep struct{ Seconds int } } `yaml:"preStop"`
						}
						Resources       struct{ Requests map[string]string }
						SecurityContext struct {
							ReadOnlyRootFilesystem bool `yaml:"readOnlyRootFilesystem"`
						} `yaml:"securityContext"`
					}
				}
			}
		}
	}
	docs := strings.Split(readRepoFile(t, "deploy/kubernetes.yaml"), "\n---\n")
	for _, doc := range docs {
		var head struct {
			Kind string
			Data map[string]string
		}
		if err := yaml.Unmarshal([]byte(doc), &head); err != nil {
			t.Fatalf("deploy/kubernetes.yaml: %v", err)
		}
		switch head.Kind {
		case "ConfigMap":
			cfgYAML = head.Data["jwtgate.yaml"]
		case "Deployment":
			if err := yaml.Unmarshal([]byte(doc), &dep); err != nil {
				t.Fatal(err)
			}
		}
	}
	cfg, err := config.Parse([]byte(cfgYAML))
	if err != nil {
		t.Fatalf("the ConfigMap's jwtgate.yaml: %v", err)
	}
	pod := dep.Spec.Template.Spec
	if len(pod.Containers) != 1 {
		t.Fatalf("%d containers, want 1", len(pod.Containers))
	}
	c := pod.Containers[0]
	if c.ReadinessProbe.HTTPGet.Path != "/readyz" || c.LivenessProbe.HTTPGet.Path != "/healthz" {
		t.Errorf("probes: readiness %q liveness %q, want /readyz and /healthz", c.ReadinessProbe.HTTPGet.Path, c.LivenessProbe.HTTPGet.Path)
	}
	const drainPeriod = 5 * time.Second
	preStop := time.Duration(c.Lifecycle.PreStop.Sleep.Seconds) * time.Second
	grace := time.Duration(pod.TerminationGracePeriodSeconds) * time.Second
	if preStop < drainPeriod || grace <= preStop+drainPeriod+cfg.Limits.ShutdownTimeout {
		t.Errorf("preStop %s, grace %s: want preStop >= %s and grace > preStop + drain %s + shutdown_timeout %s", preStop, grace, drainPeriod, drainPeriod, cfg.Limits.ShutdownTimeout)
	}
	if c.Resources.Requests["cpu"] == "" || c.Resources.Requests["memory"] == "" || !c.SecurityContext.ReadOnlyRootFilesystem {
		t.Errorf("container: requests %v, read-only root %v", c.Resources.Requests, c.SecurityContext.ReadOnlyRootFilesystem)
	}
	if !strings.HasPrefix(cfg.Listen, "0.0.0.0:") {
		t.Errorf("listen %q: a pod must listen on every interface", cfg.Listen)
	}
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}
