package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/jwtgate/jwtgate/engine"
	"github.com/jwtgate/jwtgate/server"
	"github.com/jwtgate/jwtgate/server/config"
)

func init() {
	register(command{
		name:    "serve",
		summary: "run the forward-auth server (/auth, /verify, /healthz, /readyz, /metrics)",
		run:     runServe,
	})
}

const serveAbout = `
Serves the forward-auth endpoint /auth (and every path under it, any method)
for nginx auth_request, Caddy forward_auth, Traefik ForwardAuth and Envoy
ext_authz, plus POST /verify, /healthz, /readyz and /metrics.

The configuration file (--config, else $JWTGATE_CONFIG) is YAML; see
examples/jwtgate.yaml. The key-source, --issuer, --audience and --listen
flags override it for the single-issuer case, or configure jwtgate without
a file. Every issuer must name its audiences (or, in a file, say
any_audience: true): a valid signature alone proves nothing about whom a
token is for.

With no configuration file and no key source, jwtgate starts in demo mode:
it generates a key, serves its JWKS at /.well-known/jwks.json, trusts it,
and prints a curl command with a valid 24-hour token.

SIGTERM or SIGINT starts the shutdown: for the drain period (--drain-period,
limits.drain_period, default 5s) /readyz answers 503 and every answer
carries "Connection: close", so that proxies and keep-alive clients move
off; then jwtgate stops accepting connections and waits for the requests in
flight (limits.shutdown_timeout, default 30s). A second SIGTERM or SIGINT
stops at once.

With --grpc-listen ADDR (grpc_listen) it also serves Envoy's gRPC
ext_authz service (envoy.service.auth.v3.Authorization, for Envoy, Istio and
Contour) and the gRPC health service on ADDR: the same decision as /auth,
the same metrics, and the same drain (health NOT_SERVING at once).

SIGHUP reloads: the configuration file and every key file (jwks_file,
pem_files) are read again and, if all are valid, swapped in at once;
requests in flight finish on the old configuration. An invalid one changes
nothing: the error is logged with its file and line and counted in
jwtgate_config_reloads_total{result="failure"}. --watch (reload.watch)
also reloads when one of these files changes, polled every reload.interval
(default 5s).

--check-config validates the configuration, loads every local key source
and prints the keys of each issuer; --online also fetches every remote key
set once. Exit codes, the same for serve and --check-config: 0 OK, 1 a key
source unusable (a key file missing or broken; online, a key set that
cannot be fetched), 2 the configuration invalid.

The connection cap (limits.concurrency) is lowered to the open-file limit
less limits.fd_headroom (default 64): a connection over it is answered 503
and closed, and running out of descriptors only delays accepting.`

func runServe(args []string, stdout, stderr io.Writer) int {
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	defer signal.Stop(sigs)
	hups := make(chan os.Signal, 1)
	signal.Notify(hups, syscall.SIGHUP)
	defer signal.Stop(hups)
	ctx, drain := context.WithCancel(context.Background())
	defer drain()
	stopNow := make(chan struct{})
	go func() {
		select {
		case <-sigs:
		case <-ctx.Done():
			return
		}
		drain()
		<-sigs
		close(stopNow)
	}()
	return serveUntil(ctx, stopNow, hups, args, os.Getenv(config.EnvConfig), stdout, stderr)
}

// serve runs the serve command until ctx ends. envConfig is the value of
// $JWTGATE_CONFIG.
func serve(ctx context.Context, args []string, envConfig string, stdout, stderr io.Writer) int {
	return serveUntil(ctx, nil, nil, args, envConfig, stdout, stderr)
}

// serveUntil runs the serve command: the shutdown starts when ctx ends,
// and is cut short when stopNow is closed (a second signal); each value
// on hup (SIGHUP) reloads the configuration.
func serveUntil(ctx context.Context, stopNow <-chan struct{}, hup <-chan os.Signal, args []string, envConfig string, stdout, stderr io.Writer) int {
	f := newFlags("serve", "[flags]", serveAbout, stderr)
	cfgPath := f.String("config", "", "YAML configuration `FILE` (default $"+config.EnvConfig+")")
	var o config.Overrides
	f.StringVar(&o.Listen, "listen", "", "listen `ADDR`ess (default "+config.DefaultListen+")")
	f.StringVar(&o.JWKSURL, "jwks-url", "", "fetch the issuer's keys from this JWKS `URL`")
	f.StringVar(&o.JWKSFile, "jwks-file", "", "read the issuer's keys from this JWKS `FILE`")
	f.StringVar(&o.Discovery, "discovery", "", "find the issuer's keys by OpenID discovery at this issuer `URL`")
	f.StringVar(&o.Issuer, "issuer", "", "the exact \"iss\" of accepted tokens")
	var auds stringList
	f.Var(&auds, "audience", "an accepted \"aud\" (repeatable)")
	check := f.Bool("check-config", false, "validate the configuration and load every local key source, print the keys per issuer and the compiled route table, and exit: 0 OK, 1 a key source unusable, 2 the configuration invalid")
	online := f.Bool("online", false, "with --check-config: also fetch every remote key set (jwks_url, discovery) once")
	watch := f.Bool("watch", false, "reload when the configuration file or a key file changes (polled every reload.interval, default 5s; overrides reload.watch)")
	demoAlg := f.String("demo-alg", "EdDSA", "algorithm of the demo-mode key: EdDSA or ES256")
	logOpts := addLogFlags(f)
	grpcListen := f.String("grpc-listen", "", "also serve Envoy's gRPC ext_authz (envoy.service.auth.v3) on this `ADDR`ess (overrides grpc_listen)")
	drainPeriod := f.Duration("drain-period", config.DefaultDrainPeriod, "after SIGTERM, serve with /readyz 503 and \"Connection: close\" for this `DURATION` before stopping (0: stop at once; overrides limits.drain_period)")
	if rest, code, stop := f.parse(args, stdout); stop {
		return code
	} else if len(rest) > 0 {
		return f.usageErr("unexpected argument %q", rest[0])
	}
	o.Audiences = auds
	path := *cfgPath
	if path == "" {
		path = envConfig
	}
	demo := path == "" && !o.HasKeySource()

	if *drainPeriod < 0 {
		return f.usageErr("--drain-period must not be negative, not %s", *drainPeriod)
	}
	if *online && !*check {
		return f.usageErr("--online goes with --check-config")
	}
	alg, ok := engine.ParseAlg(*demoAlg)
	if !ok || (alg != engine.EdDSA && alg != engine.ES256) {
		return f.usageErr("--demo-alg must be EdDSA or ES256, not %q", *demoAlg)
	}
	set := f.setFlags()
	// demoMode, once made, replaces the stand-in issuer of every load.
	var demoMode *demoSetup
	load := func() (*config.Config, error) {
		cfg, err := loadServeConfig(path, o, demo)
		if err == nil {
			err = logOpts.apply(f, cfg)
		}
		if err != nil {
			return nil, &server.ConfigError{Err: err}
		}
		if set["drain-period"] {
			cfg.Limits.DrainPeriod = drainPeriod
		}
		if set["watch"] {
			cfg.Reload.Watch = *watch
		}
		if set["grpc-listen"] {
			cfg.GRPCListen = *grpcListen
			if err := cfg.Validate(); err != nil {
				return nil, &server.ConfigError{Err: err}
			}
		}
		if demoMode != nil {
			demoMode.Configure(cfg)
		}
		return cfg, nil
	}
	watched := newFileWatch(path)
	cfg, err := load()
	if err != nil {
		printConfigErrors(stderr, err)
		return exitCodeOf(err)
	}
	if *check {
		return checkConfig(ctx, cfg, demo, *online, stdout, stderr)
	}
	// The watched files as they are before the keys are read: a change from
	// now on reloads.
	initialFiles := watched.snapshot(cfg)
	if os.Getenv("GOMEMLIMIT") == "" && *cfg.Cache.Entries != 0 { // an operator's GOMEMLIMIT wins
		debug.SetMemoryLimit(engine.MemoryLimitFor(cfg.Cache.MaxBytes)) // see engine.MemoryLimitFor
	}
	logger, err := server.NewLogger(cfg.Log, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "jwtgate serve: %v\n", err)
		return exitUsage
	}
	fdLimit := server.RaiseDescriptorLimit()
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		fmt.Fprintf(stderr, "jwtgate serve: --listen %s: %v\n", cfg.Listen, err)
		return exitFailure
	}
	defer ln.Close()
	base := baseURL(ln.Addr())

	var opts = server.Options{Logger: logger, Load: load}
	if demo {
		issuer := o.Issuer
		if issuer == "" {
			issuer = base
		}
		aud := ""
		if len(o.Audiences) > 0 {
			aud = o.Audiences[0]
		}
		if demoMode, err = newDemoSetup(alg, issuer, aud); err != nil {
			fmt.Fprintf(stderr, "jwtgate serve: demo key: %v\n", err)
			return exitFailure
		}
		demoMode.Configure(cfg)
		opts.PublishJWKS = demoMode.JWKS
	}
	srv, err := server.New(cfg, opts)
	if err != nil {
		printConfigErrors(stderr, err)
		return exitCodeOf(err)
	}
	if err := srv.Start(ctx); err != nil {
		srv.Close()
		fmt.Fprintf(stderr, "jwtgate serve: loading keys: %v\n", err)
		return exitCodeOf(err)
	}
	logger.Info("jwtgate serving", "listen", ln.Addr().String(), "issuers", len(cfg.Issuers), "ready", srv.Ready(),
		"max_connections", srv.ConnectionLimit(), "open_file_limit", fdLimit, "watch", cfg.Reload.Watch)
	grpcSrv, err := startGRPC(ctx, cfg, srv, logger)
	if err != nil {
		srv.Close()
		fmt.Fprintf(stderr, "jwtgate serve: gRPC ext_authz: %v\n", err)
		return exitFailure
	}
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-stopNow: // nil without signals: waits for done
			logger.Warn("second signal: stopping at once")
			srv.Stop()
			grpcSrv.stop()
		case <-done:
		}
	}()
	go reloadOnSignal(ctx, srv, hup, logger, done)
	watched.watchFiles(ctx, srv, initialFiles, logger, done)
	if demoMode != nil {
		tok, err := demoMode.Token(demoSubject, engine.SystemClock.Now(), demoTokenTTL)
		if err != nil {
			srv.Close()
			fmt.Fprintf(stderr, "jwtgate serve: demo token: %v\n", err)
			return exitFailure
		}
		fmt.Fprintf(stdout, "jwtgate demo mode: no key source configured, so this server trusts a key it just generated (%s, kid %s).\n", alg, "demo-"+alg.String())
		fmt.Fprintf(stdout, "Its JWKS: %s/.well-known/jwks.json  issuer: %s  audience: %s\n", base, demoMode.Issuer, demoMode.Audience)
		fmt.Fprintf(stdout, "A valid token for %q, good for %s; this gets 200 with X-Auth-Subject:\n", demoSubject, demoTokenTTL)
		fmt.Fprintln(stdout, curlCommand(base, tok))
	}
	err = srv.Run(ctx, ln)
	if ctx.Err() == nil { // the HTTP server failed on its own
		grpcSrv.stop()
	}
	if gerr := grpcSrv.wait(); gerr != nil {
		fmt.Fprintf(stderr, "jwtgate serve: gRPC ext_authz: %v\n", gerr)
		return exitFailure
	}
	if err != nil && !errors.Is(err, net.ErrClosed) {
		fmt.Fprintf(stderr, "jwtgate serve: %v\n", err)
		return exitFailure
	}
	return exitOK
}

// loadServeConfig reads the configuration file (if any), applies the flag
// overrides and validates the result. In demo mode the issuer is added
// later, so validation waits for it.
func loadServeConfig(path string, o config.Overrides, demo bool) (*config.Config, error) {
	cfg := &config.Config{}
	if path != "" {
		var err error
		if cfg, err = config.ReadFile(path); err != nil {
			return nil, err
		}
	}
	if demo {
		if o.Listen != "" {
			cfg.Listen = o.Listen
		}
		// A stand-in issuer until the demo key exists (made once the
		// listener is bound, since the issuer is the server's URL), so
		// that everything else is validated and defaulted now.
		cfg.Issuers = []config.Issuer{{Issuer: "demo", InlineJWKS: []byte("{}"), Audiences: []string{"demo"}}}
		if err := cfg.Validate(); err != nil {
			return nil, err
		}
		return cfg, nil
	}
	if err := cfg.Apply(o); err != nil {
		return nil, err
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return cfg, nil
}

// printConfigErrors prints each configuration problem on its own line.
func printConfigErrors(w io.Writer, err error) {
	var ce *server.ConfigError
	if errors.As(err, &ce) {
		err = ce.Err
	}
	var list []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		list = j.Unwrap()
	} else {
		list = []error{err}
	}
	for _, e := range list {
		fmt.Fprintf(w, "jwtgate serve: config: %s\n", strings.TrimSpace(e.Error()))
	}
}

// baseURL is the http URL clients on this machine use to reach addr: a
// wildcard address is reached through loopback.
func baseURL(addr net.Addr) string {
	tcp, ok := addr.(*net.TCPAddr)
	if !ok {
		return "http://" + addr.String()
	}
	host := tcp.IP
	if host == nil || host.IsUnspecified() {
		host = net.IPv4(127, 0, 0, 1)
	}
	return "http://" + net.JoinHostPort(host.String(), fmt.Sprint(tcp.Port))
}
