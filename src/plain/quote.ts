export {quoteArg, shellLine} from '../core/text/quote.js';
