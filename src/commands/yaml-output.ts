import {stringify} from 'yaml';

/** `-o yaml`: each JSON object of an output as one YAML document (loaded only for -o yaml: start-up stays lean). */
export function jsonLinesAsYaml(jsonLines: string): string {
	return jsonLines
		.trim()
		.split('\n')
		.filter(Boolean)
		.map((l) => `---\n${stringify(JSON.parse(l), {lineWidth: 0})}`)
		.join('');
}
