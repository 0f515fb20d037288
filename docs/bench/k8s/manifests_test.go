// Package k8s holds the Kubernetes manifests of the multi-host bench recipe (README.md) and the
// test that keeps them consistent: every document decodes into the k8s.io/api types with unknown
// fields refused, and the names, ports, keys, shard arguments and paths that tie the objects
// together line up.
package k8s

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// object is one decoded document.
type object struct {
	where string // file#document
	kind  string
	meta  metav1.ObjectMeta
	obj   any
}

func (o object) String() string { return fmt.Sprintf("%s %s %s", o.where, o.kind, o.meta.Name) }

// newObject returns an empty value of the API type of apiVersion/kind.
func newObject(apiVersion, kind string) (any, error) {
	switch apiVersion + " " + kind {
	case "v1 Namespace":
		return &corev1.Namespace{}, nil
	case "v1 ConfigMap":
		return &corev1.ConfigMap{}, nil
	case "v1 Secret":
		return &corev1.Secret{}, nil
	case "v1 Service":
		return &corev1.Service{}, nil
	case "v1 PersistentVolumeClaim":
		return &corev1.PersistentVolumeClaim{}, nil
	case "v1 Pod":
		return &corev1.Pod{}, nil
	case "apps/v1 Deployment":
		return &appsv1.Deployment{}, nil
	case "batch/v1 Job":
		return &batchv1.Job{}, nil
	}
	return nil, fmt.Errorf("apiVersion %q kind %q: not a type this test knows (add it to newObject)", apiVersion, kind)
}

// decodeFile decodes every document of a multi-document YAML stream strictly: an unknown or
// duplicated field is an error, as is a document without apiVersion, kind or name.
func decodeFile(name string, r io.Reader) ([]object, error) {
	yr := utilyaml.NewYAMLReader(bufio.NewReader(r))
	var objs []object
	for i := 0; ; i++ {
		doc, err := yr.Read()
		if errors.Is(err, io.EOF) {
			return objs, nil
		}
		if err != nil {
			return objs, fmt.Errorf("%s: document %d: %w", name, i, err)
		}
		if len(bytes.TrimSpace(stripComments(doc))) == 0 {
			continue
		}
		where := fmt.Sprintf("%s#%d", name, i)
		var tm metav1.TypeMeta
		if err := yaml.Unmarshal(doc, &tm); err != nil {
			return objs, fmt.Errorf("%s: %w", where, err)
		}
		obj, err := newObject(tm.APIVersion, tm.Kind)
		if err != nil {
			return objs, fmt.Errorf("%s: %w", where, err)
		}
		if err := yaml.UnmarshalStrict(doc, obj); err != nil {
			return objs, fmt.Errorf("%s (%s): %w", where, tm.Kind, err)
		}
		meta := obj.(metav1.ObjectMetaAccessor).GetObjectMeta().(*metav1.ObjectMeta)
		if meta.Name == "" {
			return objs, fmt.Errorf("%s (%s): no metadata.name", where, tm.Kind)
		}
		objs = append(objs, object{where: where, kind: tm.Kind, meta: *meta, obj: obj})
	}
}

func stripComments(doc []byte) []byte {
	var out []byte
	for line := range bytes.Lines(doc) {
		if t := bytes.TrimSpace(line); len(t) > 0 && t[0] != '#' {
			out = append(out, line...)
		}
	}
	return out
}

// source is a ConfigMap or Secret: its keys, and where it is defined.
type source struct {
	where string
	keys  []string
}

// manifests is the recipe: the decoded objects, indexed.
type manifests struct {
	objs       []object
	namespace  string
	services   map[string]*corev1.Service
	configMaps map[string]source
	secrets    map[string]source
	claims     map[string]*corev1.PersistentVolumeClaim
}

// podSpec is a pod template of a workload.
type podSpec struct {
	owner  object
	labels map[string]string
	spec   *corev1.PodSpec
	job    *batchv1.Job // nil unless owned by a Job
}

func (m *manifests) pods() []podSpec {
	var ps []podSpec
	for _, o := range m.objs {
		switch v := o.obj.(type) {
		case *appsv1.Deployment:
			ps = append(ps, podSpec{o, v.Spec.Template.Labels, &v.Spec.Template.Spec, nil})
		case *batchv1.Job:
			ps = append(ps, podSpec{o, v.Spec.Template.Labels, &v.Spec.Template.Spec, v})
		case *corev1.Pod:
			ps = append(ps, podSpec{o, v.Labels, &v.Spec, nil})
		}
	}
	return ps
}

// render builds the kustomization in dir with kustomize's own library (what kubectl apply -k
// applies) and returns the YAML stream.
func render(t *testing.T, dir string) []byte {
	t.Helper()
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	rm, err := k.Run(filesys.MakeFsOnDisk(), abs)
	if err != nil {
		t.Fatalf("kustomize build %s: %v", dir, err)
	}
	b, err := rm.AsYaml()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// load renders the kustomization of dir, decodes every object strictly, and adds the objects
// README.md tells the user to create.
func load(t *testing.T, dir string) *manifests {
	t.Helper()
	objs, err := decodeFile("kustomize build", bytes.NewReader(render(t, dir)))
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	m := &manifests{objs: objs, services: map[string]*corev1.Service{}, configMaps: map[string]source{},
		secrets: map[string]source{}, claims: map[string]*corev1.PersistentVolumeClaim{}}
	for _, o := range m.objs {
		switch v := o.obj.(type) {
		case *corev1.Namespace:
			if m.namespace != "" {
				t.Fatalf("%v: a second Namespace (the recipe has one, %s)", o, m.namespace)
			}
			m.namespace = v.Name
		case *corev1.Service:
			m.services[v.Name] = v
		case *corev1.ConfigMap:
			m.configMaps[v.Name] = source{o.String(), slices.Concat(keys(v.Data), keys(v.BinaryData))}
		case *corev1.Secret:
			m.secrets[v.Name] = source{o.String(), slices.Concat(keys(v.Data), keys(v.StringData))}
		case *corev1.PersistentVolumeClaim:
			m.claims[v.Name] = v
		}
	}
	readme, err := os.ReadFile(filepath.Join(dir, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range kubectlCreates(string(readme)) {
		if c.namespace != m.namespace {
			t.Errorf("README.md: %q creates %s %s in namespace %q, want %q", c.line, c.kind, c.name, c.namespace, m.namespace)
		}
		target := m.secrets
		if c.kind == "configmap" {
			target = m.configMaps
		}
		if s, dup := target[c.name]; dup {
			t.Errorf("README.md creates %s %s, also defined by %s", c.kind, c.name, s.where)
		}
		target[c.name] = source{"README.md: " + c.line, c.keys}
	}
	return m
}

func keys[V any](m map[string]V) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}

// created is a ConfigMap or Secret that README.md creates with kubectl.
type created struct {
	line, kind, name, namespace string
	keys                        []string
}

var createRE = regexp.MustCompile(`kubectl\s.*\bcreate\s+(secret\s+generic|configmap)\s+(\S+)`)

// kubectlCreates finds the `kubectl ... create secret generic|configmap NAME --from-...` lines.
func kubectlCreates(readme string) []created {
	var cs []created
	for line := range strings.Lines(readme) {
		line = strings.TrimSpace(line)
		sm := createRE.FindStringSubmatch(line)
		if sm == nil {
			continue
		}
		c := created{line: line, kind: strings.Fields(sm[1])[0], name: sm[2]}
		fields := strings.Fields(line)
		for i, f := range fields {
			switch {
			case (f == "-n" || f == "--namespace") && i+1 < len(fields):
				c.namespace = fields[i+1]
			case strings.HasPrefix(f, "--namespace="):
				c.namespace = strings.TrimPrefix(f, "--namespace=")
			case strings.HasPrefix(f, "--from-literal="):
				k, _, _ := strings.Cut(strings.TrimPrefix(f, "--from-literal="), "=")
				c.keys = append(c.keys, k)
			case strings.HasPrefix(f, "--from-file="):
				spec := strings.TrimPrefix(f, "--from-file=")
				if k, _, ok := strings.Cut(spec, "="); ok {
					c.keys = append(c.keys, k)
				} else {
					c.keys = append(c.keys, path.Base(spec))
				}
			}
		}
		cs = append(cs, c)
	}
	return cs
}

// flag returns the value of --name=VALUE or --name VALUE in args ("" and false when absent).
func flag(args []string, name string) (string, bool) {
	for i, a := range args {
		if v, ok := strings.CutPrefix(a, "--"+name+"="); ok {
			return v, true
		}
		if a == "--"+name && i+1 < len(args) {
			return args[i+1], true
		}
	}
	return "", false
}

// envValue returns the literal value of an environment variable of c.
func envValue(c corev1.Container, name string) (string, bool) {
	for _, e := range c.Env {
		if e.Name == name && e.ValueFrom == nil {
			return e.Value, true
		}
	}
	return "", false
}

func TestManifestsDecodeStrictly(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("*.yaml")
	if err != nil || len(files) < 2 {
		t.Fatalf("manifests: %v (%d files)", err, len(files))
	}
	for _, f := range files {
		if f == "kustomization.yaml" {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := decodeFile(f, bytes.NewReader(b)); err != nil {
			t.Errorf("decode: %v", err)
		}
	}
	m := load(t, ".")
	if m.namespace == "" {
		t.Fatal("no Namespace object: the URLs name the namespace, so the recipe creates it")
	}
	kinds := map[string]int{}
	for _, o := range m.objs {
		kinds[o.kind]++
		if o.kind != "Namespace" && o.meta.Namespace != m.namespace {
			t.Errorf("%v: namespace %q, want %q (the namespace the URLs name)", o, o.meta.Namespace, m.namespace)
		}
	}
	for _, k := range []string{"Deployment", "Service", "Job", "ConfigMap", "PersistentVolumeClaim"} {
		if kinds[k] == 0 {
			t.Errorf("no %s in the recipe", k)
		}
	}
}

// A manifest with a typo must not pass: the strict decoding is what the other checks rely on.
func TestDecodeRefusesMistakes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, doc, want string
	}{
		{"unknown field", "apiVersion: batch/v1\nkind: Job\nmetadata: {name: j}\nspec:\n  completionsMode: Indexed\n", "unknown field"},
		{"misplaced field", "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec:\n  ports: [{port: 80, containerPort: 80}]\n", "unknown field"},
		{"duplicate field", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: x}\ndata: {b: y}\n", "already set"},
		{"wrong type", "apiVersion: batch/v1\nkind: Job\nmetadata: {name: j}\nspec:\n  completions: four\n", "cannot unmarshal"},
		{"unknown kind", "apiVersion: v1\nkind: Sevrice\nmetadata: {name: s}\n", "not a type this test knows"},
		{"no name", "apiVersion: v1\nkind: ConfigMap\ndata: {a: x}\n", "no metadata.name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := decodeFile("test.yaml", strings.NewReader("# comment\n---\n"+tt.doc))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("decode = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

var varRef = regexp.MustCompile(`\$\(([A-Za-z_][A-Za-z0-9_]*)\)`)

// Every $(VAR) in args is defined (Kubernetes leaves an unknown one as is), every Secret,
// ConfigMap and claim a pod uses exists with the keys it reads, and every file path given in
// an argument under a Secret or ConfigMap mount names one of its keys.
func TestReferencesResolve(t *testing.T) {
	t.Parallel()
	m := load(t, ".")
	for _, p := range m.pods() {
		vols := map[string]corev1.Volume{}
		for _, v := range p.spec.Volumes {
			vols[v.Name] = v
			switch {
			case v.Secret != nil:
				if _, ok := m.secrets[v.Secret.SecretName]; !ok {
					t.Errorf("%v: volume %s: Secret %q is neither in the manifests nor created in README.md", p.owner, v.Name, v.Secret.SecretName)
				}
			case v.ConfigMap != nil:
				if _, ok := m.configMaps[v.ConfigMap.Name]; !ok {
					t.Errorf("%v: volume %s: ConfigMap %q is neither in the manifests nor created in README.md", p.owner, v.Name, v.ConfigMap.Name)
				}
			case v.PersistentVolumeClaim != nil:
				if _, ok := m.claims[v.PersistentVolumeClaim.ClaimName]; !ok {
					t.Errorf("%v: volume %s: PersistentVolumeClaim %q is not in the manifests", p.owner, v.Name, v.PersistentVolumeClaim.ClaimName)
				}
			}
		}
		for _, c := range p.spec.Containers {
			defined := map[string]bool{}
			if p.job != nil && p.job.Spec.CompletionMode != nil && *p.job.Spec.CompletionMode == batchv1.IndexedCompletion {
				defined["JOB_COMPLETION_INDEX"] = true // set by the Job controller
			}
			for _, e := range c.Env {
				defined[e.Name] = true
				if e.ValueFrom == nil {
					continue
				}
				if r := e.ValueFrom.SecretKeyRef; r != nil {
					checkKey(t, p, "env "+e.Name, "Secret", m.secrets, r.Name, r.Key)
				}
				if r := e.ValueFrom.ConfigMapKeyRef; r != nil {
					checkKey(t, p, "env "+e.Name, "ConfigMap", m.configMaps, r.Name, r.Key)
				}
			}
			for _, a := range slices.Concat(c.Command, c.Args) {
				for _, sm := range varRef.FindAllStringSubmatch(a, -1) {
					if !defined[sm[1]] {
						t.Errorf("%v: container %s: argument %q uses $(%s), which is not in its env (Kubernetes would pass it literally)", p.owner, c.Name, a, sm[1])
					}
				}
			}
			mounts := map[string]corev1.Volume{} // mount path -> volume
			for _, vm := range c.VolumeMounts {
				v, ok := vols[vm.Name]
				if !ok {
					t.Errorf("%v: container %s mounts volume %q, which the pod does not have", p.owner, c.Name, vm.Name)
					continue
				}
				mounts[path.Clean(vm.MountPath)] = v
			}
			for _, a := range c.Args {
				_, val, ok := strings.Cut(a, "=")
				if !ok || !strings.HasPrefix(val, "/") || strings.ContainsAny(val, "*$") {
					continue
				}
				dir, file := path.Split(path.Clean(val))
				v, ok := mounts[path.Clean(dir)]
				switch {
				case !ok:
				case v.Secret != nil:
					checkKey(t, p, "argument "+a, "Secret", m.secrets, v.Secret.SecretName, file)
				case v.ConfigMap != nil:
					checkKey(t, p, "argument "+a, "ConfigMap", m.configMaps, v.ConfigMap.Name, file)
				}
			}
		}
	}
}

func checkKey(t *testing.T, p podSpec, what, kind string, srcs map[string]source, name, key string) {
	t.Helper()
	s, ok := srcs[name]
	if !ok {
		t.Errorf("%v: %s: %s %q is neither in the manifests nor created in README.md", p.owner, what, kind, name)
		return
	}
	if !slices.Contains(s.keys, key) {
		t.Errorf("%v: %s: %s %q has no key %q (keys %v, from %s)", p.owner, what, kind, name, key, s.keys, s.where)
	}
}

var urlRE = regexp.MustCompile(`https?://[^\s,"']+`)

// serviceOf returns the Service a cluster host name designates: svc, svc.ns, svc.ns.svc or
// svc.ns.svc.cluster.local. ok is false for a name outside the cluster's Services (an IP, a
// public name).
func (m *manifests) serviceOf(host string) (name, ns string, ok bool) {
	if net.ParseIP(host) != nil {
		return "", "", false
	}
	parts := strings.Split(strings.TrimSuffix(host, ".cluster.local"), ".")
	switch {
	case len(parts) == 1:
		return parts[0], m.namespace, true
	case len(parts) == 2, len(parts) == 3 && parts[2] == "svc":
		return parts[0], parts[1], true
	}
	return "", "", false
}

// Every URL in the arguments and environment that names a cluster Service names one of the
// manifests', on one of its ports, and that port leads to a containerPort of the pods the
// Service selects.
func TestURLsReachServices(t *testing.T) {
	t.Parallel()
	m := load(t, ".")
	pods := m.pods()
	seen := 0
	for _, p := range pods {
		for _, c := range p.spec.Containers {
			var values []string
			values = append(values, c.Args...)
			for _, e := range c.Env {
				values = append(values, e.Value)
			}
			for _, v := range values {
				for _, raw := range urlRE.FindAllString(v, -1) {
					u, err := url.Parse(raw)
					if err != nil {
						t.Errorf("%v: container %s: %q: %v", p.owner, c.Name, raw, err)
						continue
					}
					name, ns, ok := m.serviceOf(u.Hostname())
					if !ok {
						continue
					}
					seen++
					if ns != m.namespace {
						t.Errorf("%v: %s: namespace %q, want %q", p.owner, raw, ns, m.namespace)
					}
					svc, ok := m.services[name]
					if !ok {
						t.Errorf("%v: container %s: %s names Service %q, which is not in the manifests (Services: %v)", p.owner, c.Name, raw, name, keys(m.services))
						continue
					}
					port, err := strconv.Atoi(u.Port())
					if u.Port() == "" {
						port, err = 80, nil
					}
					if err != nil {
						t.Errorf("%v: %s: port %q: %v", p.owner, raw, u.Port(), err)
						continue
					}
					if err := m.checkServicePort(svc, int32(port), pods); err != nil {
						t.Errorf("%v: container %s: %s: %v", p.owner, c.Name, raw, err)
					}
				}
			}
		}
	}
	if seen == 0 {
		t.Error("no URL names a Service: the generators must reach the target and fakeaz through Services")
	}
}

// checkServicePort: svc has port, and its targetPort is a containerPort of a pod svc selects.
func (m *manifests) checkServicePort(svc *corev1.Service, port int32, pods []podSpec) error {
	i := slices.IndexFunc(svc.Spec.Ports, func(sp corev1.ServicePort) bool { return sp.Port == port })
	if i < 0 {
		var ps []int32
		for _, sp := range svc.Spec.Ports {
			ps = append(ps, sp.Port)
		}
		return fmt.Errorf("Service %s has no port %d (ports %v)", svc.Name, port, ps)
	}
	sp := svc.Spec.Ports[i]
	if len(svc.Spec.Selector) == 0 {
		return fmt.Errorf("Service %s has no selector", svc.Name)
	}
	sel := labels.SelectorFromSet(svc.Spec.Selector)
	selected := 0
	for _, p := range pods {
		headless := svc.Spec.ClusterIP == corev1.ClusterIPNone
		if (p.job != nil && !headless) || !sel.Matches(labels.Set(p.labels)) {
			continue
		}
		selected++
		for _, c := range p.spec.Containers {
			for _, cp := range c.Ports {
				tp := sp.TargetPort
				if (tp.Type == intstr.String && tp.StrVal == cp.Name) ||
					(tp.Type == intstr.Int && (tp.IntVal == cp.ContainerPort || tp.IntVal == 0 && sp.Port == cp.ContainerPort)) {
					// The target's own PORT, when it has one, must be that containerPort.
					if v, ok := envValue(c, "PORT"); ok && v != strconv.Itoa(int(cp.ContainerPort)) {
						return fmt.Errorf("Service %s port %d leads to containerPort %d of %v, but its PORT is %s", svc.Name, port, cp.ContainerPort, p.owner, v)
					}
					return nil
				}
			}
		}
	}
	if selected == 0 {
		return fmt.Errorf("Service %s selects %v, which matches no Deployment's pods", svc.Name, svc.Spec.Selector)
	}
	return fmt.Errorf("Service %s port %d has targetPort %s, which is no containerPort of the pods it selects", svc.Name, port, sp.TargetPort.String())
}

// container returns the one container of the workloads whose first argument is cmd.
func (m *manifests) container(t *testing.T, cmd string) (podSpec, corev1.Container) {
	t.Helper()
	var found []podSpec
	var cs []corev1.Container
	for _, p := range m.pods() {
		for _, c := range p.spec.Containers {
			if len(c.Args) > 0 && c.Args[0] == cmd {
				found, cs = append(found, p), append(cs, c)
			}
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d containers run `mcaspec %s`, want 1", len(found), cmd)
	}
	return found[0], cs[0]
}

// containers returns the containers of pods whose first argument is cmd and that have flag.
func (m *manifests) containers(cmd, flagName string) ([]podSpec, []corev1.Container) {
	var ps []podSpec
	var cs []corev1.Container
	for _, p := range m.pods() {
		for _, c := range p.spec.Containers {
			if len(c.Args) > 0 && c.Args[0] == cmd {
				if _, ok := flag(c.Args, flagName); ok {
					ps, cs = append(ps, p), append(cs, c)
				}
			}
		}
	}
	return ps, cs
}

// fakeaz, the target and the generators agree on the AZ: one public URL (the iss of the
// tokens), one app, one signing key.
func TestOneAZ(t *testing.T) {
	t.Parallel()
	m := load(t, ".")
	azPod, az := m.container(t, "fakeaz")
	public, ok := flag(az.Args, "public-url")
	if !ok {
		t.Fatalf("%v: fakeaz has no --public-url: its serverUrl would be derived from the pod address", azPod.owner)
	}
	if l, _ := flag(az.Args, "listen"); !strings.HasPrefix(l, "0.0.0.0:") {
		t.Errorf("%v: fakeaz --listen=%q, want 0.0.0.0:PORT (reachable through its Service)", azPod.owner, l)
	}

	// The app ids fakeaz registers from its --config file.
	cfgPath, ok := flag(az.Args, "config")
	if !ok {
		t.Fatalf("%v: fakeaz has no --config registering the app", azPod.owner)
	}
	var appIDs []string
	for _, vm := range az.VolumeMounts {
		if path.Dir(cfgPath) != path.Clean(vm.MountPath) {
			continue
		}
		for _, v := range azPod.spec.Volumes {
			if v.Name != vm.Name || v.ConfigMap == nil {
				continue
			}
			for _, o := range m.objs {
				cm, ok := o.obj.(*corev1.ConfigMap)
				if !ok || cm.Name != v.ConfigMap.Name {
					continue
				}
				var cfg struct {
					Apps []struct {
						ID string `json:"appId"`
					} `json:"apps"`
				}
				if err := yaml.Unmarshal([]byte(cm.Data[path.Base(cfgPath)]), &cfg); err != nil {
					t.Fatalf("%v: %s: %v", o, path.Base(cfgPath), err)
				}
				for _, a := range cfg.Apps {
					appIDs = append(appIDs, a.ID)
				}
			}
		}
	}
	if len(appIDs) == 0 {
		t.Fatalf("%v: no app in the ConfigMap of --config=%s", azPod.owner, cfgPath)
	}

	// The targets: every container with MCA_SERVER_URL, but those of the conformance Job (they
	// trust the harness's own AZ, its --az-public-url).
	harnessAZ := map[string]bool{}
	for _, c := range m.argsOf("conformance") {
		if u, ok := flag(c.Args, "az-public-url"); ok {
			harnessAZ[u] = true
		}
	}
	targets := 0
	for _, p := range m.pods() {
		for _, c := range p.spec.Containers {
			su, ok := envValue(c, "MCA_SERVER_URL")
			if !ok || harnessAZ[su] {
				continue
			}
			targets++
			if su != public {
				t.Errorf("%v: MCA_SERVER_URL=%q, want fakeaz's --public-url %q (it is the iss of the tokens)", p.owner, su, public)
			}
			if id, _ := envValue(c, "MCA_APP_ID"); !slices.Contains(appIDs, id) {
				t.Errorf("%v: MCA_APP_ID=%q, want an app of fakeaz's config %v", p.owner, id, appIDs)
			}
			if h, _ := envValue(c, "HOST"); h != "0.0.0.0" {
				t.Errorf("%v: HOST=%q, want 0.0.0.0 (reachable through its Service)", p.owner, h)
			}
		}
	}
	if targets == 0 {
		t.Error("no target (a container with MCA_SERVER_URL)")
	}

	// The generators: the same URL, app and key file (the same Secret key as fakeaz's --key).
	keyOf := func(p podSpec, c corev1.Container, file string) string {
		for _, vm := range c.VolumeMounts {
			if path.Dir(file) == path.Clean(vm.MountPath) {
				for _, v := range p.spec.Volumes {
					if v.Name == vm.Name && v.Secret != nil {
						return v.Secret.SecretName + "/" + path.Base(file)
					}
				}
			}
		}
		return ""
	}
	azKeyFile, _ := flag(az.Args, "key")
	azKey := keyOf(azPod, az, azKeyFile)
	if azKey == "" {
		t.Errorf("%v: fakeaz --key=%q is not a file of a mounted Secret", azPod.owner, azKeyFile)
	}
	ps, cs := m.containers("bench", "shard")
	if len(cs) == 0 {
		t.Fatal("no generator (`mcaspec bench --shard`)")
	}
	for i, c := range cs {
		p := ps[i]
		if u, _ := flag(c.Args, "az-url"); u != public {
			t.Errorf("%v: --az-url=%q, want fakeaz's --public-url %q", p.owner, u, public)
		}
		if id, _ := flag(c.Args, "app-id"); !slices.Contains(appIDs, id) {
			t.Errorf("%v: --app-id=%q, want an app of fakeaz's config %v", p.owner, id, appIDs)
		}
		f, _ := flag(c.Args, "az-key")
		if k := keyOf(p, c, f); k != azKey {
			t.Errorf("%v: --az-key=%q is %q, want fakeaz's signing key %q", p.owner, f, k, azKey)
		}
	}
}

var shardRE = regexp.MustCompile(`^\$\(JOB_COMPLETION_INDEX\)/(?:([0-9]+)|\$\(([A-Z_]+)\))$`)

// envFromConfigMap resolves an environment variable of c that reads a ConfigMap key.
func (m *manifests) envFromConfigMap(c corev1.Container, name string) (string, bool) {
	for _, e := range c.Env {
		if e.Name != name || e.ValueFrom == nil || e.ValueFrom.ConfigMapKeyRef == nil {
			continue
		}
		ref := e.ValueFrom.ConfigMapKeyRef
		for _, o := range m.objs {
			if cm, ok := o.obj.(*corev1.ConfigMap); ok && cm.Name == ref.Name {
				v, ok := cm.Data[ref.Key]
				return v, ok
			}
		}
	}
	return "", false
}

// argsOf returns the containers whose first argument is cmd.
func (m *manifests) argsOf(cmd string) []corev1.Container {
	var cs []corev1.Container
	for _, p := range m.pods() {
		for _, c := range p.spec.Containers {
			if len(c.Args) > 0 && c.Args[0] == cmd {
				cs = append(cs, c)
			}
		}
	}
	return cs
}

// The generators' Job is Indexed, N = completions = parallelism = the N of --shard, its volume
// can be written from N nodes, and the merge Job's glob finds what every shard writes (and not
// the merged output).
func TestShardsAndMerge(t *testing.T) {
	t.Parallel()
	m := load(t, ".")
	ps, cs := m.containers("bench", "shard")
	if len(cs) != 1 {
		t.Fatalf("%d generator containers (`mcaspec bench --shard`), want 1", len(cs))
	}
	gen, c := ps[0], cs[0]
	job := gen.job
	if job == nil {
		t.Fatalf("%v: the generators must be a Job", gen.owner)
	}
	if job.Spec.CompletionMode == nil || *job.Spec.CompletionMode != batchv1.IndexedCompletion {
		t.Errorf("%v: completionMode is not Indexed: pods would get no JOB_COMPLETION_INDEX", gen.owner)
	}
	shard, _ := flag(c.Args, "shard")
	sm := shardRE.FindStringSubmatch(shard)
	if sm == nil {
		t.Fatalf("%v: --shard=%q, want $(JOB_COMPLETION_INDEX)/N or $(JOB_COMPLETION_INDEX)/$(VAR)", gen.owner, shard)
	}
	nStr := sm[1]
	if sm[2] != "" {
		v, ok := m.envFromConfigMap(c, sm[2])
		if !ok {
			t.Fatalf("%v: --shard=%s: $(%s) is not read from a ConfigMap of the manifests", gen.owner, shard, sm[2])
		}
		nStr = v
	}
	n, err := strconv.Atoi(nStr)
	if err != nil {
		t.Fatalf("%v: --shard=%s: N = %q is not a number", gen.owner, shard, nStr)
	}
	if job.Spec.Completions == nil || int(*job.Spec.Completions) != n {
		t.Errorf("%v: --shard=%s but completions=%v: set completions, parallelism and the N of --shard together", gen.owner, shard, ptrString(job.Spec.Completions))
	}
	if job.Spec.Parallelism == nil || int(*job.Spec.Parallelism) != n {
		t.Errorf("%v: --shard=%s but parallelism=%v: all N shards must run at once (they start together at --start-at)", gen.owner, shard, ptrString(job.Spec.Parallelism))
	}
	if n < 1 {
		t.Errorf("%v: --shard=%s: N must be at least 1", gen.owner, shard)
	}
	if job.Spec.ActiveDeadlineSeconds == nil {
		t.Errorf("%v: no activeDeadlineSeconds: every run must be bounded", gen.owner)
	}
	if _, ok := flag(c.Args, "start-at"); !ok {
		t.Errorf("%v: no --start-at: the shards would not begin together", gen.owner)
	}
	target, _ := flag(c.Args, "target")
	name, _, ok := strings.Cut(target, "=")
	if !ok {
		t.Fatalf("%v: --target=%q, want NAME=URL", gen.owner, target)
	}

	out, _ := flag(c.Args, "out")
	outClaim, outRel := m.onClaim(t, gen, c, out)
	if pvc := m.claims[outClaim]; pvc != nil && n > 1 && !slices.Contains(pvc.Spec.AccessModes, corev1.ReadWriteMany) {
		t.Errorf("PersistentVolumeClaim %s: access modes %v: %d generators on different nodes write to it, it needs ReadWriteMany", outClaim, pvc.Spec.AccessModes, n)
	}

	mps, mcs := m.containers("bench", "merge")
	if len(mcs) != 1 {
		t.Fatalf("%d merge containers (`mcaspec bench --merge`), want 1", len(mcs))
	}
	mp, mc := mps[0], mcs[0]
	if mp.job == nil || mp.job.Spec.Suspend == nil || !*mp.job.Spec.Suspend {
		t.Errorf("%v: the merge Job must be created suspended (README.md resumes it after the generators)", mp.owner)
	}
	glob, _ := flag(mc.Args, "merge")
	globClaim, globRel := m.onClaim(t, mp, mc, glob)
	if globClaim != outClaim {
		t.Fatalf("%v: --merge=%q reads claim %q, the generators write to claim %q", mp.owner, glob, globClaim, outClaim)
	}
	scenarios, _ := flag(c.Args, "scenario")
	for i := range n {
		dir := strings.ReplaceAll(outRel, "$(JOB_COMPLETION_INDEX)", strconv.Itoa(i))
		for s := range strings.SplitSeq(scenarios, ",") {
			file := path.Join(dir, "results", name+"-"+s+".bin")
			if ok, err := path.Match(globRel, file); err != nil || !ok {
				t.Errorf("%v: --merge=%q does not match %s, where shard %d writes (--out=%s)", mp.owner, glob, file, i, out)
			}
		}
	}
	mergedOut, _ := flag(mc.Args, "out")
	_, mergedRel := m.onClaim(t, mp, mc, mergedOut)
	if ok, _ := path.Match(globRel, path.Join(mergedRel, "results", name+"-hot.bin")); ok {
		t.Errorf("%v: --merge=%q also matches its own output --out=%s", mp.owner, glob, mergedOut)
	}
}

func ptrString(p *int32) string {
	if p == nil {
		return "unset"
	}
	return strconv.Itoa(int(*p))
}

// onClaim maps a container path to the claim mounted there and the path inside it.
func (m *manifests) onClaim(t *testing.T, p podSpec, c corev1.Container, file string) (claim, rel string) {
	t.Helper()
	for _, vm := range c.VolumeMounts {
		mp := path.Clean(vm.MountPath)
		r, ok := strings.CutPrefix(path.Clean(file), mp+"/")
		if !ok {
			continue
		}
		for _, v := range p.spec.Volumes {
			if v.Name == vm.Name && v.PersistentVolumeClaim != nil {
				return v.PersistentVolumeClaim.ClaimName, path.Join(vm.SubPath, r)
			}
		}
	}
	t.Fatalf("%v: %s is not on a mounted PersistentVolumeClaim", p.owner, file)
	return "", ""
}
