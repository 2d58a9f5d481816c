import {render} from 'ink';
import {homeState, type HomeAction} from '../commands/home.js';
import {keyboard} from './keyboard.js';
import {HomeScreen} from './screens/home-screen.js';

/** Shows the home screen and returns the command line of the action chosen (undefined: quit). */
export async function runHome(configPath?: string): Promise<string[] | undefined> {
	const state = await homeState(configPath);
	let chosen: HomeAction | undefined;
	const app = render(<HomeScreen state={state} onChoose={(a) => (chosen = a)} />, {stdin: keyboard(), exitOnCtrlC: false});
	await app.waitUntilExit();
	app.cleanup();
	return chosen?.argv;
}
