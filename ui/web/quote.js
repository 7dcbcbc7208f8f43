// Placing a citation's quote in the text PDF.js lays over a page (its text layer). Pure functions,
// no DOM: the viewer hands in the text layer's span strings and gets back which characters of
// which spans to mark.
//
// A quote is an exact slice of the page text the ingest built, which reads a page as a reader does
// (columns joined, table cells as `cell | cell`, bullets written as `- `, look-alike kanji mapped).
// So both sides are compared in matching form (NFKC: full/half width folded; radical look-alikes
// as the kanji they stand for; no white space, so line breaks do not matter), and the quote is
// looked up line by line (and cell by cell): a line that PDF.js holds elsewhere on the page (another
// column) is still found. When less than MIN_LOCATED of the quote's characters can be placed,
// nothing is marked: marking the wrong sentence would be worse than marking none.

export const MIN_LOCATED = 0.8;
const MIN_PIECE = 4; // matching-form characters; shorter quote lines are looked up with the next
const MAX_SKIPPED_DIGITS = 3; // margin line numbers between the wrapped lines of a sentence
const LEAD_MARK = /^\s*[・\-－–—]\s*/u; // bullets the ingest writes for the page's own
const PRIVATE_USE = /^[\ue000-\uf8ff]$/u; // symbol-font bullets; the page text has none
const CHARACTER = /\P{M}\p{M}*|\p{M}+/gu; // a character with its combining marks (か + ゙ → が)
const DIGIT = /^[0-9]$/;

// The CJK Radicals Supplement look-alikes NFKC leaves alone (core/text.py, _RADICAL_SUPPLEMENT).
const RADICALS = [
  "⺁⺄⺅⺆⺇⺉⺊⺋⺌⺍⺎⺐⺒⺓⺔⺕⺖⺗⺘⺙⺛⺝⺞⺟⺠⺡⺢⺣⺤⺥⺦⺧⺨⺩⺪⺫⺬⺭⺮⺯⺰⺱⺲⺳⺶⺷⺹⺺⺻⺼⺽⺾⺿⻀⻁⻂⻃⻄⻅⻆⻈⻉⻊⻋⻌⻍⻎⻏⻐⻑⻒⻓⻔⻖⻗⻘⻙⻚⻛⻜⻝⻟⻠⻢⻣⻤⻥⻦⻧⻨⻩⻪⻫⻬⻭⻮⻯⻰⻱⻲⻳",
  "厂乙亻冂几刂卜㔾小小兀尢巳幺彑彐忄心扌攵旡月歺母民氵氺灬爫爫丬牛犭王疋目示礻竹糸纟网罒罓羊羊耂肀聿月臼艹艹艹虎衤西西见角讠贝足车辶辶辶阝钅長镸长门阝雨青韦页风飞食食饣马骨鬼鱼鸟卤麦黄黾斉齐歯齿竜龙龜亀龟",
];
const STANDARD = new Map([...RADICALS[0]].map((c, i) => [c, [...RADICALS[1]][i]]));

/** The matching form of a piece of text: standard kanji, NFKC, no white space and no control or
 * format characters (some PDFs put a backspace between a table's label and its figure). */
export function fold(text) {
  return [...text]
    .map((c) => STANDARD.get(c) ?? c)
    .join("")
    .normalize("NFKC")
    .replace(/[\s\p{Cc}\p{Cf}]+/gu, "");
}

/** The page's characters in matching form, each with the span and the slice of its text it came from
 * (a character NFKC expands, ㈱ → (株), gives every character it becomes the same origin). */
export function pageCharacters(strings) {
  let text = "";
  const origins = [];
  strings.forEach((str, span) => {
    for (const m of str.matchAll(CHARACTER)) {
      if (PRIVATE_USE.test(m[0])) continue;
      const folded = fold(m[0]);
      for (let k = 0; k < folded.length; k++) origins.push({ span, start: m.index, end: m.index + m[0].length });
      text += folded;
    }
  });
  return { text, origins };
}

/** The quote's lines (and table cells) in matching form, without the bullets and cell marks the
 * ingest wrote in; a short piece joins the next so that each piece is distinctive. */
export function quotePieces(quote) {
  const pieces = [];
  let carry = "";
  for (const cell of quote.split("\n").flatMap((line) => line.split(" | "))) {
    carry += fold(cell.replace(LEAD_MARK, ""));
    if (carry.length >= MIN_PIECE) {
      pieces.push(carry);
      carry = "";
    }
  }
  if (carry) {
    if (pieces.length) pieces[pieces.length - 1] += carry;
    else pieces.push(carry);
  }
  return pieces;
}

// The page positions of `piece` read from `at`, stepping over short runs of digits that are not in
// the quote (margin line numbers); null when it is not there.
function align(page, piece, at) {
  const positions = [];
  let i = 0;
  let j = at;
  let skipped = 0;
  while (i < piece.length) {
    if (j >= page.length) return null;
    if (page[j] === piece[i]) {
      positions.push(j);
      i += 1;
      j += 1;
      skipped = 0;
    } else if (DIGIT.test(page[j]) && skipped < MAX_SKIPPED_DIGITS) {
      j += 1;
      skipped += 1;
    } else {
      return null;
    }
  }
  return positions;
}

// Where `piece` is on the page, preferring the first place at or after `start`.
function find(page, piece, start) {
  const anchor = piece.slice(0, MIN_PIECE);
  for (const origin of [start, 0]) {
    for (let at = page.indexOf(anchor, origin); at >= 0; at = page.indexOf(anchor, at + 1)) {
      const positions = align(page, piece, at);
      if (positions) return positions;
    }
  }
  return null;
}

/** Where `quote` sits in the text layer whose span strings are `strings`.
 *
 * Returns `{located, hits}`: `located` is the share of the quote's characters found, `hits` the
 * slices to mark, `{piece, span, start, end}` (offsets into that span's string), in quote order;
 * empty when less than MIN_LOCATED was found. */
export function locateQuote(strings, quote) {
  const page = pageCharacters(strings);
  const pieces = quotePieces(quote || "");
  const total = pieces.reduce((n, p) => n + p.length, 0);
  const hits = [];
  let located = 0;
  let start = 0;
  pieces.forEach((piece, index) => {
    const positions = find(page.text, piece, start); // a later line may sit earlier (another column)
    if (!positions) return;
    located += piece.length;
    start = positions[positions.length - 1] + 1;
    for (const p of positions) {
      const origin = page.origins[p];
      const last = hits[hits.length - 1];
      if (last && last.piece === index && last.span === origin.span && origin.start <= last.end) {
        last.end = Math.max(last.end, origin.end);
      } else {
        hits.push({ piece: index, span: origin.span, start: origin.start, end: origin.end });
      }
    }
  });
  const share = total ? located / total : 0;
  return { located: share, hits: share >= MIN_LOCATED ? hits : [] };
}
