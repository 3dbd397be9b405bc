package config

import (
	"fmt"
	"net"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/gohcl"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// The raw* types describe the file's structure for gohcl, which rejects
// unknown arguments and blocks, duplicate singleton blocks and wrong labels.
// Arguments are kept as *hcl.Attribute (nil when absent) so that values can
// be decoded and validated here with their exact source ranges.

type rawFile struct {
	Server  *rawServer  `hcl:"server,block"`
	Plugins *rawPlugins `hcl:"plugins,block"`
	Models  []*rawModel `hcl:"model,block"`
	Log     *rawLog     `hcl:"log,block"`
	Auth    *rawTokens  `hcl:"auth,block"`
	Admin   *rawTokens  `hcl:"admin,block"`
	CORS    *rawCORS    `hcl:"cors,block"`
}

type rawServer struct {
	Address           *hcl.Attribute `hcl:"address,optional"`
	ShutdownTimeout   *hcl.Attribute `hcl:"shutdown_timeout,optional"`
	MaxBodyBytes      *hcl.Attribute `hcl:"max_body_bytes,optional"`
	ReadTimeout       *hcl.Attribute `hcl:"read_timeout,optional"`
	WriteTimeout      *hcl.Attribute `hcl:"write_timeout,optional"`
	IdleTimeout       *hcl.Attribute `hcl:"idle_timeout,optional"`
	ReadHeaderTimeout *hcl.Attribute `hcl:"read_header_timeout,optional"`
	MaxHeaderBytes    *hcl.Attribute `hcl:"max_header_bytes,optional"`

	ReadyWithFailedModels *hcl.Attribute `hcl:"ready_with_failed_models,optional"`
}

type rawPlugins struct {
	Directory      *hcl.Attribute `hcl:"directory,optional"`
	StartTimeout   *hcl.Attribute `hcl:"start_timeout,optional"`
	PredictTimeout *hcl.Attribute `hcl:"predict_timeout,optional"`

	MaxConcurrency *hcl.Attribute `hcl:"max_concurrency,optional"`
	MaxQueue       *hcl.Attribute `hcl:"max_queue,optional"`
	QueueTimeout   *hcl.Attribute `hcl:"queue_timeout,optional"`

	RequireChecksums      *hcl.Attribute `hcl:"require_checksums,optional"`
	MaxResponseBytes      *hcl.Attribute `hcl:"max_response_bytes,optional"`
	MaxBatchSize          *hcl.Attribute `hcl:"max_batch_size,optional"`
	RestartMax            *hcl.Attribute `hcl:"restart_max,optional"`
	RestartWindow         *hcl.Attribute `hcl:"restart_window,optional"`
	RestartBackoffInitial *hcl.Attribute `hcl:"restart_backoff_initial,optional"`
	RestartBackoffMax     *hcl.Attribute `hcl:"restart_backoff_max,optional"`
	DrainTimeout          *hcl.Attribute `hcl:"drain_timeout,optional"`

	Watch          *hcl.Attribute `hcl:"watch,optional"`
	WatchDebounce  *hcl.Attribute `hcl:"watch_debounce,optional"`
	PinnedVersions *hcl.Attribute `hcl:"pinned_versions,optional"`
}

type rawModel struct {
	Name           string         `hcl:"name,label"`
	Command        *hcl.Attribute `hcl:"command,optional"` // required; checked in decodeModel
	Args           *hcl.Attribute `hcl:"args,optional"`
	Env            *hcl.Attribute `hcl:"env,optional"`
	PredictTimeout *hcl.Attribute `hcl:"predict_timeout,optional"`
	MaxConcurrency *hcl.Attribute `hcl:"max_concurrency,optional"`
	MaxQueue       *hcl.Attribute `hcl:"max_queue,optional"`
	QueueTimeout   *hcl.Attribute `hcl:"queue_timeout,optional"`
	SHA256         *hcl.Attribute `hcl:"sha256,optional"`
	DefRange       hcl.Range      `hcl:",def_range"`
	NameRange      hcl.Range      `hcl:"name,label_range"`
}

type rawLog struct {
	Level  *hcl.Attribute `hcl:"level,optional"`
	Format *hcl.Attribute `hcl:"format,optional"`
	Access *hcl.Attribute `hcl:"access,optional"`
}

// decode parses src and returns the configuration. baseDir must be absolute.
// If the returned diagnostics contain errors the configuration must not be
// used.
func decode(src []byte, filename, baseDir string) (*Config, hcl.Diagnostics) {
	file, diags := hclsyntax.ParseConfig(src, filename, hcl.InitialPos)
	if diags.HasErrors() {
		return nil, diags
	}
	var raw rawFile
	diags = append(diags, gohcl.DecodeBody(file.Body, nil, &raw)...)

	cfg := Default()
	cfg.Plugins.Directory = resolvePath(baseDir, cfg.Plugins.Directory)
	if raw.Server != nil {
		diags = append(diags, decodeServer(raw.Server, &cfg.Server)...)
	}
	if raw.Plugins != nil {
		diags = append(diags, decodePlugins(raw.Plugins, baseDir, &cfg.Plugins)...)
	}
	if raw.Log != nil {
		diags = append(diags, decodeLog(raw.Log, &cfg.Log)...)
	}
	if raw.Auth != nil {
		diags = append(diags, decodeAuth(raw.Auth, baseDir, &cfg.Auth)...)
	}
	if raw.Admin != nil {
		diags = append(diags, decodeAdmin(raw.Admin, baseDir, &cfg.Admin)...)
	}
	if raw.CORS != nil {
		diags = append(diags, decodeCORS(raw.CORS, &cfg.CORS)...)
	}
	seen := make(map[string]hcl.Range, len(raw.Models))
	for _, rm := range raw.Models {
		if rm == nil {
			continue
		}
		if first, dup := seen[rm.Name]; dup {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Duplicate model name",
				Detail:   fmt.Sprintf("A model named %q was already declared at %s; model names must be unique.", rm.Name, first),
				Subject:  rm.NameRange.Ptr(),
				Context:  rm.DefRange.Ptr(),
			})
			continue
		}
		seen[rm.Name] = rm.DefRange
		m, mdiags := decodeModel(rm, baseDir, cfg.Plugins.PredictTimeout)
		m.Limits = decodeLimits(rm.MaxConcurrency, rm.MaxQueue, rm.QueueTimeout, cfg.Plugins.Limits, &mdiags)
		diags = append(diags, mdiags...)
		diags = append(diags, decodeModelSHA256(rm, cfg.Plugins.RequireChecksums, &m)...)
		cfg.Models = append(cfg.Models, m)
	}
	return cfg, diags
}

func decodeServer(raw *rawServer, s *Server) hcl.Diagnostics {
	var diags hcl.Diagnostics
	if addr, ok := decodeString(raw.Address, &diags); ok {
		if err := checkAddress(addr); err != nil {
			diags = append(diags, attrError(raw.Address, "Invalid server address",
				fmt.Sprintf("address must be host:port with a numeric port, such as %q or \":8080\": %v.", DefaultAddress, err)))
		} else {
			s.Address = addr
		}
	}
	if n, ok := decodeValue[int64](raw.MaxBodyBytes, &diags); ok {
		if n <= 0 {
			diags = append(diags, attrError(raw.MaxBodyBytes, "Invalid max_body_bytes",
				fmt.Sprintf("max_body_bytes must be a number of bytes greater than zero, got %d.", n)))
		} else {
			s.MaxBodyBytes = n
		}
	}
	decodeDuration(raw.ShutdownTimeout, &s.ShutdownTimeout, &diags)
	decodeDuration(raw.ReadTimeout, &s.ReadTimeout, &diags)
	decodeDuration(raw.WriteTimeout, &s.WriteTimeout, &diags)
	decodeDuration(raw.IdleTimeout, &s.IdleTimeout, &diags)
	decodeDuration(raw.ReadHeaderTimeout, &s.ReadHeaderTimeout, &diags)
	decodeMaxHeaderBytes(raw.MaxHeaderBytes, &s.MaxHeaderBytes, &diags)
	if b, ok := decodeValue[bool](raw.ReadyWithFailedModels, &diags); ok {
		s.ReadyWithFailedModels = b
	}
	return diags
}

func decodePlugins(raw *rawPlugins, baseDir string, p *Plugins) hcl.Diagnostics {
	var diags hcl.Diagnostics
	if dir, ok := decodeString(raw.Directory, &diags); ok {
		if err := checkPath(dir); err != nil {
			diags = append(diags, attrError(raw.Directory, "Invalid plugins directory", err.Error()))
		} else if dir == "" {
			p.Directory = ""
		} else {
			p.Directory = resolvePath(baseDir, dir)
		}
	}
	decodeDuration(raw.StartTimeout, &p.StartTimeout, &diags)
	decodeDuration(raw.PredictTimeout, &p.PredictTimeout, &diags)
	p.Limits = decodeLimits(raw.MaxConcurrency, raw.MaxQueue, raw.QueueTimeout, p.Limits, &diags)
	diags = append(diags, decodeSupervision(raw, p)...)
	diags = append(diags, decodeReload(raw, p)...)
	return diags
}

func decodeLog(raw *rawLog, l *Log) hcl.Diagnostics {
	var diags hcl.Diagnostics
	if level, ok := decodeString(raw.Level, &diags); ok {
		if !slices.Contains(LogLevels(), level) {
			diags = append(diags, attrError(raw.Level, "Invalid log level",
				fmt.Sprintf("level must be one of %s; got %q.", quoteList(LogLevels()), level)))
		} else {
			l.Level = level
		}
	}
	if format, ok := decodeString(raw.Format, &diags); ok {
		if !slices.Contains(LogFormats(), format) {
			diags = append(diags, attrError(raw.Format, "Invalid log format",
				fmt.Sprintf("format must be one of %s; got %q.", quoteList(LogFormats()), format)))
		} else {
			l.Format = format
		}
	}
	if b, ok := decodeValue[bool](raw.Access, &diags); ok {
		l.Access = b
	}
	return diags
}

func decodeModel(raw *rawModel, baseDir string, predictTimeout time.Duration) (Model, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	m := Model{
		Name:           raw.Name,
		PredictTimeout: predictTimeout,
		DeclRange:      raw.DefRange,
	}
	if strings.TrimSpace(raw.Name) == "" {
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Invalid model name",
			Detail:   "The model block label must not be empty.",
			Subject:  raw.NameRange.Ptr(),
			Context:  raw.DefRange.Ptr(),
		})
	}

	if cmd, ok := decodeCommand(raw, &diags); ok {
		m.Command = resolvePath(baseDir, cmd)
	}

	if args, ok := decodeValue[[]string](raw.Args, &diags); ok {
		for i, a := range args {
			if strings.IndexByte(a, 0) >= 0 {
				diags = append(diags, attrError(raw.Args, "Invalid args",
					fmt.Sprintf("Argument %d contains a NUL byte.", i)))
			}
		}
		if len(args) > 0 {
			m.Args = args
		}
	}

	if env, ok := decodeValue[map[string]string](raw.Env, &diags); ok {
		for _, k := range sortedKeys(env) {
			if err := checkEnv(k, env[k]); err != nil {
				diags = append(diags, &hcl.Diagnostic{
					Severity:   hcl.DiagError,
					Summary:    "Invalid environment variable",
					Detail:     err.Error() + ".",
					Subject:    objectKeyRange(raw.Env.Expr, k).Ptr(),
					Expression: raw.Env.Expr,
				})
			}
		}
		if len(env) > 0 {
			m.Env = env
		}
	}

	decodeDuration(raw.PredictTimeout, &m.PredictTimeout, &diags)
	return m, diags
}

// decodeCommand decodes the required, non-empty command argument of a model
// block.
func decodeCommand(raw *rawModel, diags *hcl.Diagnostics) (string, bool) {
	if raw.Command == nil {
		*diags = append(*diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Missing required argument",
			Detail:   fmt.Sprintf("The argument \"command\" is required, but model %q has none.", raw.Name),
			Subject:  raw.DefRange.Ptr(),
		})
		return "", false
	}
	n := len(*diags)
	cmd, ok := decodeString(raw.Command, diags)
	switch {
	case !ok && len(*diags) == n: // command = null
		*diags = append(*diags, attrError(raw.Command, "Invalid command", "command must not be null."))
	case !ok:
	case cmd == "":
		*diags = append(*diags, attrError(raw.Command, "Invalid command", "command must not be empty."))
	case checkPath(cmd) != nil:
		*diags = append(*diags, attrError(raw.Command, "Invalid command", checkPath(cmd).Error()))
	default:
		return cmd, true
	}
	return "", false
}

// decodeValue decodes attr's constant value into a T. It reports false, and
// leaves *diags unchanged, when attr is absent or null; it reports false and
// appends to *diags when the value is invalid or has the wrong type.
func decodeValue[T any](attr *hcl.Attribute, diags *hcl.Diagnostics) (T, bool) {
	var zero T
	if attr == nil {
		return zero, false
	}
	v, vdiags := attr.Expr.Value(nil)
	if vdiags.HasErrors() {
		*diags = append(*diags, vdiags...)
		return zero, false
	}
	if v.IsNull() {
		return zero, false
	}
	var out T
	if ddiags := gohcl.DecodeExpression(attr.Expr, nil, &out); ddiags.HasErrors() {
		for _, d := range ddiags {
			// gohcl's conversion errors neither name the argument nor
			// cover the whole value.
			d.Detail = fmt.Sprintf("Invalid value for %s: %s.", attr.Name,
				strings.TrimSuffix(strings.TrimPrefix(d.Detail, "Unsuitable value: "), "."))
			d.Subject = attr.Expr.Range().Ptr()
			d.Context = attr.Range.Ptr()
		}
		*diags = append(*diags, ddiags...)
		return zero, false
	}
	return out, true
}

func decodeString(attr *hcl.Attribute, diags *hcl.Diagnostics) (string, bool) {
	return decodeValue[string](attr, diags)
}

// decodeDuration sets *dst from attr, a positive duration string, if attr is
// present and not null.
func decodeDuration(attr *hcl.Attribute, dst *time.Duration, diags *hcl.Diagnostics) {
	s, ok := decodeString(attr, diags)
	if !ok {
		return
	}
	d, err := time.ParseDuration(s)
	switch {
	case err != nil:
		*diags = append(*diags, attrError(attr, "Invalid duration",
			fmt.Sprintf("%s must be a duration such as \"15s\", \"500ms\" or \"1m30s\": %v.", attr.Name, err)))
	case d <= 0:
		*diags = append(*diags, attrError(attr, "Invalid duration",
			fmt.Sprintf("%s must be greater than zero, got %q.", attr.Name, s)))
	default:
		*dst = d
	}
}

// attrError returns an error diagnostic about the value of attr.
func attrError(attr *hcl.Attribute, summary, detail string) *hcl.Diagnostic {
	return &hcl.Diagnostic{
		Severity:   hcl.DiagError,
		Summary:    summary,
		Detail:     detail,
		Subject:    attr.Expr.Range().Ptr(),
		Context:    attr.Range.Ptr(),
		Expression: attr.Expr,
	}
}

// checkAddress reports whether addr is host:port with a numeric port.
func checkAddress(addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return fmt.Errorf("port %q is not a number from 0 to 65535", port)
	}
	return nil
}

func checkPath(p string) error {
	if strings.IndexByte(p, 0) >= 0 {
		return fmt.Errorf("path contains a NUL byte")
	}
	return nil
}

func checkEnv(name, value string) error {
	switch {
	case name == "":
		return fmt.Errorf("environment variable names must not be empty")
	case strings.ContainsAny(name, "=\x00"):
		return fmt.Errorf("environment variable name %q must not contain '=' or NUL", name)
	case strings.IndexByte(value, 0) >= 0:
		return fmt.Errorf("value of environment variable %q must not contain NUL", name)
	}
	return nil
}

// resolvePath returns p made absolute against baseDir, cleaned.
func resolvePath(baseDir, p string) string {
	if filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	return filepath.Join(baseDir, p)
}

// objectKeyRange returns the range of the key name in an object
// constructor expression, or the whole expression's range if it cannot be
// found.
func objectKeyRange(expr hcl.Expression, key string) hcl.Range {
	if item, ok := objectItem(expr, key); ok {
		return item.KeyExpr.Range()
	}
	return expr.Range()
}

// objectValueRange returns the range of the value of key in an object
// constructor expression, or the whole expression's range if it cannot be
// found.
func objectValueRange(expr hcl.Expression, key string) hcl.Range {
	if item, ok := objectItem(expr, key); ok {
		return item.ValueExpr.Range()
	}
	return expr.Range()
}

// objectItem returns the last item of an object constructor expression
// whose key is key: the one whose value the object holds.
func objectItem(expr hcl.Expression, key string) (hclsyntax.ObjectConsItem, bool) {
	obj, ok := expr.(*hclsyntax.ObjectConsExpr)
	if !ok {
		return hclsyntax.ObjectConsItem{}, false
	}
	for i := len(obj.Items) - 1; i >= 0; i-- {
		var k string
		if diags := gohcl.DecodeExpression(obj.Items[i].KeyExpr, nil, &k); !diags.HasErrors() && k == key {
			return obj.Items[i], true
		}
	}
	return hclsyntax.ObjectConsItem{}, false
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func quoteList(vs []string) string {
	q := make([]string, len(vs))
	for i, v := range vs {
		q[i] = strconv.Quote(v)
	}
	return strings.Join(q, ", ")
}
