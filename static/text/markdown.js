/**
 * How a message's text is shown (docs/architecture.md, "The page", "Formatting"): a small Markdown subset, bold,
 * italic, inline and block code, quotes, lists and links, parsed by markdown-it (the vendored `markdown-it.js`,
 * a classic script that sets the global `markdownit`) with raw HTML and images off, then cleaned by DOMPurify
 * against an allow-list of exactly the tags that subset makes. Links open in a new tab without the opener or a
 * referrer, and only `http:`, `https:` and `mailto:` addresses survive: anything else (`javascript:`, `data:`,
 * relative paths) leaves a link without an address, inert. The message is stored as typed; this is display only.
 */

import DOMPurify from '../vendor/purify.js';
import { mentionPlugin } from './mentions.js';

/** The tags the subset makes; everything else is dropped by DOMPurify (its text kept). */
export const ALLOWED_TAGS = Object.freeze([
  'p',
  'br',
  'strong',
  'em',
  'code',
  'pre',
  'blockquote',
  'ul',
  'ol',
  'li',
  'a',
  'span',
]);
/** Attributes the subset needs (`start` of a list that begins at another number); links get theirs below. */
export const ALLOWED_ATTR = Object.freeze(['href', 'start', 'class']);
/** The only `class` values that survive, on a `span` only: a mention (../mentions.js), mine or not. */
export const MENTION_CLASSES = Object.freeze(['mention', 'mention mention-me']);
/** Link addresses that survive; checked by markdown-it before rendering and by DOMPurify's hook after. */
export const SAFE_LINK = /^(?:https?:|mailto:)/i;
/** Rendered texts kept, so re-rendering a conversation does not parse every message again. */
export const RENDER_CACHE_SIZE = 1000;

/** markdown-it's rules outside the subset. */
const DISABLED_RULES = [
  'image',
  'heading',
  'lheading',
  'table',
  'hr',
  'strikethrough',
  'html_block',
  'html_inline',
];

/** @type {any} */
let parser = null;
/** @type {any} */
let purifier = null;
/** @type {Map<string, string>} */
const cache = new Map();
/** The names a mention of me may use (../mentions.js, `myMentionNames`). @type {readonly string[]} */
let mine = [];
/** The names of the people the page knows, shown whole after `@` (../mentions.js). @type {readonly string[]} */
let known = [];
/** The list last given to `setKnownNames` (the same list again costs nothing). @type {readonly string[] | null} */
let knownGiven = null;

/**
 * Sets the names whose mentions are shown as mine; rendered texts are forgotten when they change.
 * @param {readonly string[]} names
 */
export function setMentionNames(names) {
  if (names.join('\u0000') === mine.join('\u0000')) return;
  mine = [...names];
  cache.clear();
}

/**
 * Sets the names of the people the page knows, so `@Mary Jane` shows as one mention; rendered texts are
 * forgotten when they change.
 * @param {readonly string[]} names
 */
export function setKnownNames(names) {
  if (names === knownGiven) return;
  knownGiven = names;
  if (names.join('\u0000') === known.join('\u0000')) return;
  known = [...names];
  cache.clear();
}

function setUp() {
  const markdownit = /** @type {any} */ (globalThis).markdownit;
  if (typeof markdownit !== 'function') throw new Error('The Markdown script did not load.');
  // Single newlines are line breaks, as people type them (Shift+Enter); typographer off: text stays as typed.
  parser = markdownit({ html: false, linkify: true, breaks: true, typographer: false });
  parser.disable(DISABLED_RULES, true);
  // Bare addresses become links when they start with a scheme or `www.`: without that, file names such as
  // `main.py` or `notes.md` (.py and .md are country domains) would turn into links to strangers' sites.
  parser.linkify.set({ fuzzyLink: false });
  parser.validateLink = (/** @type {string} */ url) => SAFE_LINK.test(url.trim());
  parser.use(
    mentionPlugin,
    () => mine,
    () => known,
  );
  purifier = DOMPurify(window);
  purifier.addHook('afterSanitizeAttributes', (/** @type {Element} */ node) => {
    const cls = node.getAttribute('class');
    if (cls !== null && !(node.tagName === 'SPAN' && MENTION_CLASSES.includes(cls)))
      node.removeAttribute('class');
    if (node.tagName !== 'A') return;
    const href = node.getAttribute('href');
    if (href === null || !SAFE_LINK.test(href.trim())) node.removeAttribute('href');
    node.setAttribute('target', '_blank');
    node.setAttribute('rel', 'noopener noreferrer nofollow');
  });
}

/**
 * The HTML for a message's text: safe to put in the page with `v-html` (sanitized, allow-listed).
 * @param {string} text
 * @returns {string}
 */
export function renderMessage(text) {
  const cached = cache.get(text);
  if (cached !== undefined) return cached;
  if (parser === null) setUp();
  const html = String(
    purifier.sanitize(parser.render(text).trim(), {
      ALLOWED_TAGS: [...ALLOWED_TAGS],
      ALLOWED_ATTR: [...ALLOWED_ATTR],
      ALLOW_DATA_ATTR: false,
    }),
  );
  if (cache.size >= RENDER_CACHE_SIZE) cache.delete(/** @type {string} */ (cache.keys().next().value));
  cache.set(text, html);
  return html;
}

/**
 * A message's text as it reads, without its Markdown marks (`**`, backticks, a link's address in brackets),
 * whitespace runs made one space: its rendering's text, for places that show text only (a reply's quote, a
 * notification). A mark cut in half (an excerpt's end) stays as typed.
 * @param {string} text
 */
export function plainText(text) {
  const rendered = new DOMParser().parseFromString(renderMessage(text), 'text/html');
  return (rendered.body.textContent ?? '').replace(/\s+/gu, ' ').trim();
}

/**
 * Whether a message's text mentions me outside code, as its rendering shows it (a `<span>` can only come from
 * the mention rule: typed markup is escaped, so its `<` never reaches the HTML as a tag).
 * @param {string} text
 */
export function mentionsMeIn(text) {
  return renderMessage(text).includes('<span class="mention mention-me">');
}
