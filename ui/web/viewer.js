// The in-app page viewer: renders one cited page with PDF.js (served by the app itself), lays
// PDF.js's text layer over it and marks the quoted passage in that text (quote.js). When the quote
// cannot be placed confidently, nothing is marked: marking the wrong sentence would be worse than
// marking none.
import * as pdfjsLib from "./pdfjs/build/pdf.min.mjs";
import { locateQuote } from "./quote.js";

pdfjsLib.GlobalWorkerOptions.workerSrc = "./pdfjs/build/pdf.worker.min.mjs";

const root = document.body.dataset.root || "";
const params = new URLSearchParams(location.search);
const docId = params.get("doc") || "";
const quote = params.get("quote") || "";
let pageNumber = Math.max(1, parseInt(params.get("page") || "1", 10) || 1);
const cited = pageNumber;

const sheet = document.getElementById("pqa-sheet");
const canvas = document.getElementById("pqa-page");
const textLayerDiv = document.getElementById("pqa-text");
const status = document.getElementById("pqa-status");
const pdfLink = document.getElementById("pqa-pdf");
const label = document.getElementById("pqa-pageno");
const api = `${root}/v1/documents/${encodeURIComponent(docId)}`;
let textLayer = null;

function say(text, kind) {
  status.textContent = text;
  status.dataset.kind = kind;
}

// Wrap the slices [start, end) of one text-layer span in <span class="pqa-hit">.
function markSpan(span, text, slices) {
  const parts = [];
  let at = 0;
  for (const { start, end, piece } of slices.sort((a, b) => a.start - b.start)) {
    const from = Math.max(start, at);
    if (end <= from) continue;
    if (from > at) parts.push(document.createTextNode(text.slice(at, from)));
    const hit = document.createElement("span");
    hit.className = "pqa-hit";
    hit.dataset.piece = String(piece);
    hit.textContent = text.slice(from, end);
    parts.push(hit);
    at = end;
  }
  if (at < text.length) parts.push(document.createTextNode(text.slice(at)));
  span.replaceChildren(...parts);
}

function markQuote(page) {
  delete document.body.dataset.located;
  if (page.pageNumber !== cited) {
    say(quote ? `引用箇所は ${cited} ページにあります。` : "", "other");
    return;
  }
  if (!quote) {
    say("", "none");
    return;
  }
  const { located, hits } = locateQuote(textLayer.textContentItemsStr, quote);
  document.body.dataset.located = located.toFixed(3);
  const bySpan = new Map();
  for (const hit of hits) bySpan.set(hit.span, [...(bySpan.get(hit.span) || []), hit]);
  for (const [index, slices] of bySpan) {
    markSpan(textLayer.textDivs[index], textLayer.textContentItemsStr[index], slices);
  }
  const first = textLayerDiv.querySelector(".pqa-hit");
  if (first) {
    say("引用箇所を黄色で示しています。", "marked");
    first.scrollIntoView({ block: "center" });
  } else {
    say("引用箇所をページ上で特定できなかったため、強調表示していません。", "none");
  }
}

async function show(pdf) {
  const page = await pdf.getPage(pageNumber);
  const fit = Math.min(2.0, (window.innerWidth - 32) / page.getViewport({ scale: 1 }).width);
  const viewport = page.getViewport({ scale: Math.max(0.5, fit) });
  const ratio = window.devicePixelRatio || 1;
  canvas.width = Math.floor(viewport.width * ratio);
  canvas.height = Math.floor(viewport.height * ratio);
  canvas.style.width = `${Math.floor(viewport.width)}px`;
  canvas.style.height = `${Math.floor(viewport.height)}px`;
  sheet.style.setProperty("--scale-factor", String(viewport.scale));
  await page.render({
    canvasContext: canvas.getContext("2d"),
    viewport,
    transform: ratio === 1 ? undefined : [ratio, 0, 0, ratio, 0, 0],
  }).promise;
  textLayer?.cancel();
  textLayerDiv.replaceChildren();
  textLayer = new pdfjsLib.TextLayer({
    textContentSource: page.streamTextContent({ includeMarkedContent: true, disableNormalization: true }),
    container: textLayerDiv,
    viewport,
  });
  await textLayer.render();
  label.textContent = `${pageNumber} / ${pdf.numPages}`;
  pdfLink.href = `${api}/pdf#page=${pageNumber}`;
  markQuote(page);
  document.body.dataset.rendered = String(pageNumber);
}

async function main() {
  if (!docId) {
    say("資料が指定されていません。", "error");
    return;
  }
  const pdf = await pdfjsLib.getDocument({
    url: `${api}/pdf`,
    cMapUrl: "./pdfjs/cmaps/",
    cMapPacked: true,
    standardFontDataUrl: "./pdfjs/standard_fonts/",
  }).promise;
  pageNumber = Math.min(pageNumber, pdf.numPages);
  document.getElementById("pqa-prev").onclick = () => pageNumber > 1 && (pageNumber--, show(pdf));
  document.getElementById("pqa-next").onclick = () => pageNumber < pdf.numPages && (pageNumber++, show(pdf));
  await show(pdf);
}

main().catch((error) => {
  console.error(error);
  say("PDFを表示できませんでした。下の「PDFを開く」からご覧ください。", "error");
});
