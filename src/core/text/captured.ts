/**
 * A value captured from text others wrote can end up in a command (`podman rm -f {{name}}`) or a file edit. Each
 * capture name says what it names, and a value that is not that kind of thing (a container name `$(touch x)`) is
 * refused: the finding keeps its evidence, the fix says it lacks the value.
 */
const IMAGE = /^[A-Za-z0-9][\w.\-/:@]{0,254}$/;
const CONTAINER = /^[A-Za-z0-9][\w.-]{0,252}$/;
const K8S_NAME = /^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$/;
const PORT = /^\d{1,5}$/;
const PATH = /^[\w./@+,:~ -]{1,4096}$/;
const ENV = /^[A-Za-z_][A-Za-z0-9_]{0,254}$/;
const HOST = /^[A-Za-z0-9]([A-Za-z0-9.-]{0,252})(:\d{1,5})?$/;
const WORD = /^[\w.@-]{1,253}$/;

/** What each capture name of the KB names. A capture not listed here is refused by `kb lint`. */
export const CAPTURE_KINDS: Record<string, {what: string; re: RegExp}> = {
	image: {what: 'an image reference', re: IMAGE},
	imageNormalised: {what: 'an image reference', re: IMAGE},
	name: {what: 'a container name', re: CONTAINER},
	cluster: {what: 'a Kind cluster name', re: CONTAINER},
	pod: {what: 'a Kubernetes name', re: K8S_NAME},
	namespace: {what: 'a Kubernetes name', re: K8S_NAME},
	sa: {what: 'a Kubernetes name', re: K8S_NAME},
	object: {what: 'a Kubernetes name', re: K8S_NAME},
	port: {what: 'a port number', re: PORT},
	nodePort: {what: 'a port number', re: PORT},
	path: {what: 'a path', re: PATH},
	coverdir: {what: 'a path', re: PATH},
	binary: {what: 'a path', re: PATH},
	var: {what: 'an environment variable name', re: ENV},
	registry: {what: 'a registry host', re: HOST},
	host: {what: 'a host name', re: HOST},
	user: {what: 'a user name', re: WORD},
	relation: {what: 'a table name', re: WORD},
	required: {what: 'a version', re: WORD},
	kind: {what: 'a Kubernetes kind', re: WORD},
};

/** True when value is the kind of thing the capture name says; unknown names are refused. */
export function validCapture(name: string, value: string): boolean {
	const k = CAPTURE_KINDS[name];
	if (!k) return false;
	if (name === 'port' || name === 'nodePort') return k.re.test(value) && Number(value) > 0 && Number(value) <= 65535;
	// A path never climbs out with `..` segments and never starts with a dash (it would read as a flag).
	if (k.re === PATH && (value.startsWith('-') || value.split('/').includes('..'))) return false;
	return k.re.test(value);
}
