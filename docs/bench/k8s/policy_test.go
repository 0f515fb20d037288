package k8s

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// restrictedViolations lists what keeps a pod from the Pod Security "restricted" level, plus the
// house rules: no service-account token, a read-only root filesystem, pinned images.
func restrictedViolations(spec *corev1.PodSpec) []string {
	var v []string
	psc := spec.SecurityContext
	if psc == nil {
		psc = &corev1.PodSecurityContext{}
	}
	if spec.HostNetwork || spec.HostPID || spec.HostIPC {
		v = append(v, "host namespaces")
	}
	if spec.AutomountServiceAccountToken == nil || *spec.AutomountServiceAccountToken {
		v = append(v, "automountServiceAccountToken is not false")
	}
	for _, vol := range spec.Volumes {
		if vol.HostPath != nil {
			v = append(v, "hostPath volume "+vol.Name)
		}
	}
	for _, c := range slices.Concat(spec.InitContainers, spec.Containers) {
		sc := c.SecurityContext
		if sc == nil {
			sc = &corev1.SecurityContext{}
		}
		nonRoot := (sc.RunAsNonRoot != nil && *sc.RunAsNonRoot) || (sc.RunAsNonRoot == nil && psc.RunAsNonRoot != nil && *psc.RunAsNonRoot)
		if !nonRoot {
			v = append(v, c.Name+": runAsNonRoot is not true")
		}
		if uid := sc.RunAsUser; (uid != nil && *uid == 0) || (uid == nil && psc.RunAsUser != nil && *psc.RunAsUser == 0) {
			v = append(v, c.Name+": runAsUser 0")
		}
		seccomp := sc.SeccompProfile
		if seccomp == nil {
			seccomp = psc.SeccompProfile
		}
		if seccomp == nil || (seccomp.Type != corev1.SeccompProfileTypeRuntimeDefault && seccomp.Type != corev1.SeccompProfileTypeLocalhost) {
			v = append(v, c.Name+": seccompProfile is not RuntimeDefault")
		}
		if sc.Privileged != nil && *sc.Privileged {
			v = append(v, c.Name+": privileged")
		}
		if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
			v = append(v, c.Name+": allowPrivilegeEscalation is not false")
		}
		if sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") {
			v = append(v, c.Name+": capabilities do not drop ALL")
		} else if len(sc.Capabilities.Add) > 0 {
			v = append(v, c.Name+": capabilities added")
		}
		if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
			v = append(v, c.Name+": root filesystem is not read-only")
		}
		if !pinned(c.Image) {
			v = append(v, c.Name+": image "+c.Image+" is not pinned to a version (a tag other than latest, or a digest)")
		}
	}
	return v
}

var versionTag = regexp.MustCompile(`:[vV]?[0-9][A-Za-z0-9._-]*$`)

func pinned(image string) bool {
	return strings.Contains(image, "@sha256:") || versionTag.MatchString(image)
}

// Every pod of the rendered recipe is admitted under Pod Security "restricted".
func TestPodSecurityRestricted(t *testing.T) {
	t.Parallel()
	m := load(t, ".")
	for _, p := range m.pods() {
		for _, v := range restrictedViolations(p.spec) {
			t.Errorf("%v: %s", p.owner, v)
		}
	}
	for _, o := range m.objs {
		if ns, ok := o.obj.(*corev1.Namespace); ok && ns.Labels["pod-security.kubernetes.io/enforce"] != "restricted" {
			t.Errorf("%v: the namespace does not enforce Pod Security restricted", o)
		}
	}
}

// The policy check itself catches each mistake.
func TestRestrictedViolationsCatches(t *testing.T) {
	t.Parallel()
	m := load(t, ".")
	_, c := m.container(t, "fakeaz")
	good := m.pods()[0].spec.DeepCopy()
	for _, p := range m.pods() {
		if slices.ContainsFunc(p.spec.Containers, func(x corev1.Container) bool { return x.Name == c.Name }) {
			good = p.spec.DeepCopy()
		}
	}
	if v := restrictedViolations(good); len(v) > 0 {
		t.Fatalf("the fakeaz pod is not clean: %v", v)
	}
	yes, no := true, false
	tests := map[string]func(s *corev1.PodSpec){
		"seccomp":      func(s *corev1.PodSpec) { s.SecurityContext.SeccompProfile = nil },
		"escalation":   func(s *corev1.PodSpec) { s.Containers[0].SecurityContext.AllowPrivilegeEscalation = &yes },
		"token":        func(s *corev1.PodSpec) { s.AutomountServiceAccountToken = nil },
		"capabilities": func(s *corev1.PodSpec) { s.Containers[0].SecurityContext.Capabilities.Drop = nil },
		"root fs":      func(s *corev1.PodSpec) { s.Containers[0].SecurityContext.ReadOnlyRootFilesystem = &no },
		"latest":       func(s *corev1.PodSpec) { s.Containers[0].Image = "mcaspec/mcaspec:latest" },
		"untagged":     func(s *corev1.PodSpec) { s.Containers[0].Image = "mcaspec/mcaspec" },
		"root":         func(s *corev1.PodSpec) { s.SecurityContext.RunAsNonRoot = &no },
	}
	for name, breakIt := range tests {
		s := good.DeepCopy()
		breakIt(s)
		if len(restrictedViolations(s)) == 0 {
			t.Errorf("%s: not caught", name)
		}
	}
}

// No secret is on a command line (visible in the process list): a $(VAR) in args never comes
// from a Secret, and no flag carrying a secret is given a literal value.
func TestSecretsNotInArgs(t *testing.T) {
	t.Parallel()
	m := load(t, ".")
	for _, p := range m.pods() {
		for _, c := range p.spec.Containers {
			fromSecret := map[string]bool{}
			for _, e := range c.Env {
				if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
					fromSecret[e.Name] = true
				}
			}
			for _, a := range slices.Concat(c.Command, c.Args) {
				for _, sm := range varRef.FindAllStringSubmatch(a, -1) {
					if fromSecret[sm[1]] {
						t.Errorf("%v: argument %q puts the Secret-backed $(%s) on the command line: mcaspec reads MCASPEC_<FLAG> from the environment", p.owner, a, sm[1])
					}
				}
				name, _, _ := strings.Cut(strings.TrimPrefix(a, "--"), "=")
				if strings.HasPrefix(a, "--") && (strings.HasSuffix(name, "token") || strings.HasSuffix(name, "secret") || strings.Contains(name, "password")) {
					t.Errorf("%v: argument %q gives a secret on the command line", p.owner, a)
				}
			}
		}
	}
}

// The load generators: one per node and none beside the target (a required anti-affinity that
// matches their own pods and the target's), Guaranteed QoS, and the bench's Prometheus endpoint.
func TestGeneratorPlacement(t *testing.T) {
	t.Parallel()
	m := load(t, ".")
	ps, cs := m.containers("bench", "shard")
	if len(cs) != 1 {
		t.Fatalf("%d generator containers, want 1", len(cs))
	}
	gen, c := ps[0], cs[0]
	var targetLabels []labels.Set
	for _, p := range m.pods() {
		for _, tc := range p.spec.Containers {
			if _, ok := envValue(tc, "MCA_SERVER_URL"); ok || (len(tc.Args) > 0 && tc.Args[0] == "fakeaz") {
				targetLabels = append(targetLabels, labels.Set(p.labels))
			}
		}
	}
	aa := gen.spec.Affinity
	if aa == nil || aa.PodAntiAffinity == nil || len(aa.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution) == 0 {
		t.Fatalf("%v: no required pod anti-affinity (topologySpreadConstraints allow two per node once every node has one)", gen.owner)
	}
	self, offTargets := false, len(targetLabels) > 0
	for _, term := range aa.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution {
		if term.TopologyKey != "kubernetes.io/hostname" {
			continue
		}
		sel, err := metav1LabelSelector(term)
		if err != nil {
			t.Fatalf("%v: %v", gen.owner, err)
		}
		self = self || sel.Matches(labels.Set(gen.labels))
		for _, tl := range targetLabels {
			if !sel.Matches(tl) {
				offTargets = false
			}
		}
	}
	if !self {
		t.Errorf("%v: the anti-affinity does not keep two generators off one node", gen.owner)
	}
	if !offTargets {
		t.Errorf("%v: the anti-affinity does not keep generators off the target's (and fakeaz's) nodes", gen.owner)
	}
	for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		req, lim := c.Resources.Requests[r], c.Resources.Limits[r]
		if req.IsZero() || req.Cmp(lim) != 0 {
			t.Errorf("%v: %s request %s, limit %s: Guaranteed QoS needs them equal and set", gen.owner, r, qty(req), qty(lim))
		}
	}
	addr, ok := flag(c.Args, "prometheus-addr")
	if !ok {
		t.Fatalf("%v: no --prometheus-addr: the generators' live metrics are not exposed", gen.owner)
	}
	_, portStr, _ := strings.Cut(addr, ":")
	port, _ := strconv.Atoi(portStr)
	i := slices.IndexFunc(c.Ports, func(p corev1.ContainerPort) bool { return p.Name == "metrics" })
	if i < 0 || int(c.Ports[i].ContainerPort) != port {
		t.Errorf("%v: --prometheus-addr=%s but no container port named metrics on %d", gen.owner, addr, port)
	}
	ann := gen.job.Spec.Template.Annotations
	if ann["prometheus.io/scrape"] != "true" || ann["prometheus.io/port"] != portStr {
		t.Errorf("%v: annotations %v: want prometheus.io/scrape \"true\" and prometheus.io/port %q", gen.owner, ann, portStr)
	}
}

func qty(q resource.Quantity) string { return q.String() }

// The conformance suite runs in the cluster as a Job against a Service, and leaves its reports
// on a volume.
func TestConformanceJob(t *testing.T) {
	t.Parallel()
	m := load(t, ".")
	p, c := m.container(t, "conformance")
	if p.job == nil {
		t.Fatalf("%v: the suite must run as a Job", p.owner)
	}
	if p.job.Spec.ActiveDeadlineSeconds == nil {
		t.Errorf("%v: no activeDeadlineSeconds: every run must be bounded", p.owner)
	}
	target, ok := flag(c.Args, "target")
	if !ok {
		t.Fatalf("%v: no --target", p.owner)
	}
	if name, _, ok := m.serviceOf(strings.Split(strings.TrimPrefix(target, "http://"), ":")[0]); !ok || m.services[name] == nil {
		t.Errorf("%v: --target=%s does not name a Service of the manifests", p.owner, target)
	}
	for _, f := range []string{"out", "summary-md", "sarif"} {
		v, ok := flag(c.Args, f)
		if !ok {
			t.Errorf("%v: no --%s", p.owner, f)
			continue
		}
		m.onClaim(t, p, c, v)
	}
}

// metav1LabelSelector converts a pod affinity term's selector.
func metav1LabelSelector(term corev1.PodAffinityTerm) (labels.Selector, error) {
	return metav1.LabelSelectorAsSelector(term.LabelSelector)
}
