"""The scanner page's offline verifier (web/src/app/scanner/verify.ts) agrees with the README's
Python verifier ("Ticket codes", "Verifying offline") on the contract's vectors
(tests/contract/ticket_code_vectors.json): the same outcome for every code, kit and order of
scans, in Node and in the machine's Debian chromium (whose WebCrypto verifies Ed25519). The
module is bundled by esbuild from web/node_modules (`make web` installs it)."""

from __future__ import annotations

import json
import re
import subprocess
from datetime import datetime
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
VECTORS = json.loads((ROOT / "tests" / "contract" / "ticket_code_vectors.json").read_text())
MODULE = ROOT / "web" / "src" / "app" / "scanner" / "verify.ts"
ESBUILD = ROOT / "web" / "node_modules" / ".bin" / "esbuild"
NOW = "2026-12-08T12:00:00+00:00"
OTHER_EVENT = "11111111-2222-4333-8444-555555555555"
VALID = [v["code"] for v in VECTORS["valid"]]
INVALID = [v["code"] for v in VECTORS["invalid"]]
PASS = VECTORS["valid"][0]["fields"]["pass_id"]
EVENT = VECTORS["valid"][0]["fields"]["event_id"]

# What runs the cases, in Node and in the browser alike: each case's codes scanned in order at
# one gate, with the admissions of its kit and those the scans made.
RUN_CASES = """
async function runCases(lib, cases) {
  const out = [];
  for (const c of cases) {
    const admitted = lib.admittedOf(c.kit);
    const got = [];
    for (const code of c.codes) {
      const d = await lib.decide(code, c.kit, admitted, new Date(c.now), "Gate A");
      got.push([d.outcome, d.admittedAt]);
    }
    out.push(got);
  }
  return out;
}
"""


def readme_verifier() -> dict:
    """The README's verifier, as published: its code block run as it is."""
    text = (ROOT / "README.md").read_text()
    [block] = re.findall(r"```python\n(.*?)```", text.split("**Verifying offline.**")[1], re.S)
    scope: dict = {"__name__": "readme_verifier"}
    exec(compile(block, "README.md", "exec"), scope)
    return scope


def kit(**fields) -> dict:
    keys = json.loads(json.dumps(VECTORS["keys"]))
    return {"event_id": EVENT, "keys": keys, "revoked": [], "admissions": []} | fields


def retired(at: str) -> dict:
    keys = json.loads(json.dumps(VECTORS["keys"]))
    keys["keys"][0]["retired_at"] = at
    return kit(keys=keys)


ADMITTED = {"pass_id": PASS, "at": "2026-12-08T11:00:00+00:00", "gate": "North"}
CASES = [
    # Each valid vector alone, then the same pass again.
    *({"kit": kit(), "codes": [code, code]} for code in VALID),
    # Read from a phone's screen: lower case, spaces around.
    {"kit": kit(), "codes": [f"  {VALID[0].lower()}\n"]},
    {"kit": kit(), "codes": INVALID},
    {"kit": kit(), "codes": ["", "TK1" + "1" * 175, "XX1" + VALID[0][3:], VALID[0][:-1] + "="]},
    {"kit": kit(event_id=OTHER_EVENT), "codes": VALID[:1]},
    {"kit": kit(revoked=[{"pass_id": PASS, "valid_from": 2}]), "codes": VALID[:2]},
    {"kit": kit(admissions=[ADMITTED]), "codes": VALID[:1]},
    {"kit": retired("2026-12-08T11:59:59+00:00"), "codes": VALID[:1]},
    {"kit": retired("2026-12-08T12:00:01+00:00"), "codes": VALID[:1]},
]
for case in CASES:
    case["now"] = NOW


def python_outcomes() -> list[list[str]]:
    verifier = readme_verifier()
    now = datetime.fromisoformat(NOW)
    out = []
    for case in CASES:
        admitted = {a["pass_id"]: a["at"] for a in case["kit"]["admissions"]}
        out.append([verifier["scan"](code, case["kit"], admitted, now) for code in case["codes"]])
    return out


EXPECTED = [
    ["VALID", "ALREADY_SCANNED"],
    ["VALID", "ALREADY_SCANNED"],
    ["VALID", "ALREADY_SCANNED"],
    ["VALID"],
    ["INVALID_SIGNATURE"] * len(INVALID),
    ["INVALID_SIGNATURE"] * 4,
    ["WRONG_EVENT"],
    ["REVOKED", "VALID"],
    ["ALREADY_SCANNED"],
    ["INVALID_SIGNATURE"],
    ["VALID"],
]


@pytest.fixture(scope="module")
def bundles(tmp_path_factory) -> dict[str, Path]:
    assert ESBUILD.is_file(), f"{ESBUILD} is missing: `make web` installs web/node_modules"
    out = tmp_path_factory.mktemp("verifier")
    built = {"esm": out / "verify.mjs", "iife": out / "verify.js"}
    for kind, target in built.items():
        extra = ["--global-name=verifier"] if kind == "iife" else []
        subprocess.run(
            [
                str(ESBUILD),
                str(MODULE),
                "--bundle",
                f"--format={kind}",
                f"--outfile={target}",
                *extra,
            ],
            check=True,
            capture_output=True,
        )
    return built


def test_the_readme_verifier_decides_as_the_vectors_say():
    assert python_outcomes() == EXPECTED


def outcomes(results: list) -> list[list[str]]:
    return [[outcome for outcome, _ in case] for case in results]


def test_the_browser_verifier_agrees_with_the_readme_in_node(bundles, tmp_path):
    cases = tmp_path / "cases.json"
    cases.write_text(json.dumps(CASES))
    runner = tmp_path / "run.mjs"
    runner.write_text(
        RUN_CASES
        + "import { readFileSync } from 'node:fs';\n"
        + f"const lib = await import({json.dumps(bundles['esm'].as_uri())});\n"
        + "const cases = JSON.parse(readFileSync(process.argv[2], 'utf8'));\n"
        + "console.log(JSON.stringify(await runCases(lib, cases)));\n"
    )
    done = subprocess.run(
        ["node", str(runner), str(cases)], check=True, capture_output=True, text=True
    )
    results = json.loads(done.stdout)
    assert outcomes(results) == python_outcomes() == EXPECTED
    # An admission the kit had is told with its time; a new one with the scan's.
    assert results[8] == [["ALREADY_SCANNED", ADMITTED["at"]]]
    assert results[0][1] == ["ALREADY_SCANNED", "2026-12-08T12:00:00.000Z"]


def test_the_browser_verifier_agrees_with_the_readme_in_debian_chromium(bundles, browser):
    page = browser.new_page()
    try:
        # WebCrypto is for secure contexts: a page of http://localhost, served here.
        page.route(
            "http://localhost/**",
            lambda route: route.fulfill(status=200, content_type="text/html", body="<p>ok</p>"),
        )
        page.goto("http://localhost/verifier")
        page.add_script_tag(content=bundles["iife"].read_text())
        results = page.evaluate(
            f"async (cases) => {{ {RUN_CASES}; return await runCases(verifier, cases); }}", CASES
        )
    finally:
        page.close()
    assert outcomes(results) == python_outcomes() == EXPECTED
