import { Hono } from "hono";
import type { Env } from "../env";
import { openApiDocument } from "./openapi";

// A self-contained reference page: no CDN, so it works offline in local dev as well as deployed.
const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>edge-etl API</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:15px/1.5 system-ui,sans-serif;margin:0 auto;max-width:960px;padding:24px;color:#1d2433}
h1{margin:0 0 4px}h2{margin:28px 0 8px;text-transform:capitalize;border-bottom:1px solid #dde}
details{border:1px solid #dde;border-radius:6px;margin:6px 0;padding:6px 10px}
summary{cursor:pointer}code,pre{font:13px ui-monospace,monospace}pre{background:#f5f6fa;padding:8px;overflow:auto}
.m{display:inline-block;min-width:60px;font-weight:600;text-transform:uppercase}
.get{color:#0a7}.post{color:#06c}.delete{color:#c33}.pub{font-size:12px;color:#777}
</style></head><body>
<h1>edge-etl API</h1><p id="desc"></p><p><a href="/openapi.json">openapi.json</a></p><div id="ops"></div>
<script>
fetch("/openapi.json").then(r=>r.json()).then(doc=>{
  document.getElementById("desc").textContent=doc.info.description;
  const groups={};
  for(const [path,ops] of Object.entries(doc.paths))for(const [method,op] of Object.entries(ops))
    (groups[op.tags[0]]??=[]).push({path,method,op});
  const root=document.getElementById("ops");
  const esc=s=>String(s).replace(/[&<>]/g,c=>({"&":"&amp;","<":"&lt;",">":"&gt;"}[c]));
  for(const [tag,list] of Object.entries(groups)){
    root.insertAdjacentHTML("beforeend","<h2>"+esc(tag)+"</h2>");
    for(const {path,method,op} of list){
      const params=(op.parameters||[]).map(p=>"<li><code>"+esc(p.name)+"</code> ("+p.in+")</li>").join("");
      const body=op.requestBody?"<p>Body</p><pre>"+esc(JSON.stringify(op.requestBody.content["application/json"].schema,null,2))+"</pre>":"";
      const res=Object.entries(op.responses).map(([s,r])=>"<li><code>"+s+"</code> "+esc(r.description)+"</li>").join("");
      root.insertAdjacentHTML("beforeend","<details><summary><span class='m "+method+"'>"+method+"</span><code>"+esc(path)+"</code> — "+esc(op.summary)+(op.security&&!op.security.length?" <span class='pub'>(no auth)</span>":"")+"</summary>"+(params?"<p>Parameters</p><ul>"+params+"</ul>":"")+body+"<p>Responses</p><ul>"+res+"</ul></details>");
    }
  }
});
</script></body></html>`;

export const apiDocs = new Hono<{ Bindings: Env }>()
  .get("/openapi.json", (c) => c.json(openApiDocument()))
  .get("/docs", (c) => c.html(PAGE));
