// The in-app page viewer: renders one cited page with PDF.js (served by the app itself) and marks
// the quoted passage where the server could place it (GET …/pages/{n}/quote). When it could not,
// nothing is marked: marking the wrong sentence would be worse than marking none.
import * as pdfjsLib from "./pdfjs/build/pdf.min.mjs";

pdfjsLib.GlobalWorkerOptions.workerSrc = "./pdfjs/build/pdf.worker.min.mjs";

const root = document.body.dataset.root || "";
const params = new URLSearchParams(location.search);
const docId = params.get("doc") || "";
const quote = params.get("quote") || "";
let pageNumber = Math.max(1, parseInt(params.get("page") || "1", 10) || 1);
const cited = pageNumber;

const canvas = document.getElementById("pqa-page");
const marks = document.getElementById("pqa-marks");
const status = document.getElementById("pqa-status");
const pdfLink = document.getElementById("pqa-pdf");
const label = document.getElementById("pqa-pageno");
const api = `${root}/v1/documents/${encodeURIComponent(docId)}`;

function say(text, kind) {
  status.textContent = text;
  status.dataset.kind = kind;
}

async function markQuote(page, viewport) {
  marks.replaceChildren();
  if (!quote || page.pageNumber !== cited) return;
  const url = `${api}/pages/${cited}/quote?text=${encodeURIComponent(quote)}`;
  const response = await fetch(url);
  if (!response.ok) {
    say("引用箇所を確認できませんでした。", "none");
    return;
  }
  const found = await response.json();
  for (const box of found.boxes) {
    const [x1, y1, x2, y2] = viewport.convertToViewportRectangle(box);
    const mark = document.createElement("div");
    mark.className = "pqa-mark";
    mark.style.left = `${Math.min(x1, x2)}px`;
    mark.style.top = `${Math.min(y1, y2)}px`;
    mark.style.width = `${Math.abs(x2 - x1)}px`;
    mark.style.height = `${Math.abs(y2 - y1)}px`;
    marks.appendChild(mark);
  }
  if (found.boxes.length) {
    say("引用箇所を黄色で示しています。", "marked");
    marks.firstChild.scrollIntoView({ block: "center" });
  } else {
    say("引用箇所をページ上で特定できなかったため、強調表示していません。", "none");
  }
}

async function show(pdf) {
  const page = await pdf.getPage(pageNumber);
  const fit = Math.min(2.0, (window.innerWidth - 32) / page.getViewport({ scale: 1 }).width);
  const viewport = page.getViewport({ scale: Math.max(0.5, fit) });
  canvas.width = viewport.width;
  canvas.height = viewport.height;
  marks.style.width = `${viewport.width}px`;
  marks.style.height = `${viewport.height}px`;
  await page.render({ canvasContext: canvas.getContext("2d"), viewport }).promise;
  label.textContent = `${pageNumber} / ${pdf.numPages}`;
  pdfLink.href = `${api}/pdf#page=${pageNumber}`;
  document.body.dataset.rendered = String(pageNumber);
  await markQuote(page, viewport);
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
