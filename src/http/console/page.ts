// The console's HTML shell and stylesheet. Served by the Worker itself: no CDN, works offline under `npm run dev`.

export const CONSOLE_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>edge-etl console</title>
<link rel="stylesheet" href="/console/app.css">
<script src="/console/app.js" defer></script>
</head><body>
<a class="skip" href="#main">Skip to content</a>
<header class="top"><a class="brand" href="#/accounts">edge-etl console</a>
<nav id="who" aria-label="Session"></nav></header>
<div id="error" role="alert" aria-live="assertive" hidden></div>
<div id="notice" role="status" aria-live="polite"></div>
<main id="main" tabindex="-1"><noscript>The console needs JavaScript.</noscript></main>
</body></html>`;

export const CONSOLE_CSS = `
*{box-sizing:border-box}
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1d2433;background:#f7f8fb}
a{color:#0b5cad}a:focus-visible,button:focus-visible,input:focus-visible,select:focus-visible,textarea:focus-visible,summary:focus-visible,pre:focus-visible{outline:3px solid #f5a623;outline-offset:2px}
.skip{position:absolute;left:-999px}.skip:focus{left:8px;top:8px;background:#fff;padding:6px;z-index:9}
.top{display:flex;flex-wrap:wrap;gap:8px;align-items:center;justify-content:space-between;padding:10px 16px;background:#1d2433;color:#fff}
.top a,.top button{color:#fff}.brand{font-weight:700;text-decoration:none}
main{max-width:1200px;margin:0 auto;padding:16px}
h1{font-size:1.4rem;margin:.2rem 0 .8rem}h2{font-size:1.15rem;margin:1.4rem 0 .5rem}h3{font-size:1rem;margin:1rem 0 .4rem}
#error{margin:12px 16px;padding:10px 12px;border:1px solid #c33;background:#fdecec;color:#8a1010;border-radius:6px}
#notice{margin:0 16px;color:#0a6b3d;min-height:1.2em}
form.inline{display:flex;flex-wrap:wrap;gap:8px;align-items:flex-end;margin:8px 0}
label{display:flex;flex-direction:column;font-size:.85rem;gap:2px}
input,select{font:inherit;padding:6px 8px;border:1px solid #b9bfcc;border-radius:5px;min-height:36px;background:#fff}
button{font:inherit;padding:6px 12px;min-height:36px;border-radius:5px;border:1px solid #0b5cad;background:#0b5cad;color:#fff;cursor:pointer}
button.secondary{background:#fff;color:#0b5cad}button.danger{background:#b42318;border-color:#b42318}
button:disabled{opacity:.55;cursor:default}
.tabs{display:flex;flex-wrap:wrap;gap:4px;border-bottom:1px solid #d5d9e2;margin-bottom:12px}
.tabs a{padding:8px 12px;text-decoration:none;border-radius:5px 5px 0 0}.tabs a[aria-current=page]{background:#fff;border:1px solid #d5d9e2;border-bottom-color:#fff;margin-bottom:-1px;font-weight:600}
.card{background:#fff;border:1px solid #d5d9e2;border-radius:8px;padding:12px;margin:12px 0}
.facts{display:flex;flex-wrap:wrap;gap:6px 18px;margin:6px 0}.facts div{font-size:.9rem}.facts dt{color:#5b6477;font-size:.8rem}.facts dd{margin:0;font-weight:600}
.scroll{overflow-x:auto}
table{border-collapse:collapse;width:100%;background:#fff;font-size:.9rem}
th,td{text-align:left;padding:6px 8px;border-bottom:1px solid #e6e8ee;vertical-align:top}th{background:#f0f2f6;font-weight:600}
td.num,th.num{text-align:right}
.status{font-weight:600}.status.COMPLETED{color:#0a6b3d}.status.ERROR,.status.COMPLETED_WITH_ERRORS{color:#b42318}.status.IN_PROGRESS{color:#0b5cad}
progress{width:140px;height:14px;vertical-align:middle}
.muted{color:#5b6477}.drift{color:#b42318;font-weight:600}
pre.logs{background:#0f1420;color:#dfe6f3;padding:10px;border-radius:6px;overflow:auto;max-height:360px;font-size:.8rem}
.row-actions{display:flex;flex-wrap:wrap;gap:4px}
textarea{font:.85rem/1.4 ui-monospace,monospace;padding:6px 8px;border:1px solid #b9bfcc;border-radius:5px;width:100%;max-width:40rem;background:#fff}
ul.plain{list-style:none;padding:0;margin:0}ul.plain>li{border-top:1px solid #e6e8ee;padding:8px 0}
.row-actions{align-items:center}.checks-link{align-self:center;margin-left:8px}
.check-summary{font-weight:700;margin:.4rem 0}.check-summary.ok{color:#0a6b3d}
h4{font-size:.95rem;margin:.8rem 0 .3rem}pre.action-result{max-width:100%;white-space:pre-wrap;word-break:break-word}
/* Phones: tables become stacked cards, every cell labelled by its column. */
@media (max-width:700px){
  main{padding:10px}
  table.stack thead{position:absolute;left:-9999px}
  table.stack tr{display:block;border:1px solid #d5d9e2;border-radius:6px;margin:8px 0;background:#fff}
  table.stack td{display:flex;justify-content:space-between;gap:12px;border-bottom:1px solid #eef0f4;text-align:right}
  table.stack td::before{content:attr(data-label);font-weight:600;color:#5b6477;text-align:left}
  progress{width:100px}
  form.inline{flex-direction:column;align-items:stretch}
}
`;
