"""MkDocs hooks for the documentation site (`make docs`, mkdocs.yml `hooks:`).

The same Markdown reads on GitHub and in the site. Two things differ between them, and this
module bridges both while the site is built:

- Files at the repository's root are pages of the site without a copy: README.md is the site's
  home, CONTRIBUTING.md, CHANGELOG.md and LICENSE are pages too. A page in docs/ whose first line
  is `<!-- site: include ../NAME -->` is replaced, in the site only, by that file (on GitHub the
  page shows its own text: a link to the file).
- Links written for GitHub are relative to the file they are in: `docs/api.md` in README.md,
  `../CHANGELOG.md` in docs/api.md, `schema.graphql` anywhere. Here each one is made relative to
  the page it lands on: a link into docs/ stays a link (MkDocs then checks it and its anchor), a
  root file that is a page links to that page, and a link to any other file of the repository
  (source, which the site does not carry) becomes its text. A link to nothing fails the build.

After the build, every page and stylesheet is read for a script, stylesheet, font, image or frame
loaded from another host; one fails the build, so the site reads offline (no CDN at read time).
"""

from __future__ import annotations

import logging
import posixpath
import re
from pathlib import Path

from mkdocs.exceptions import PluginError

log = logging.getLogger("mkdocs.hooks.docs_site")

# Root files that are pages of the site, and the page each is.
ROOT_PAGES = {
    "README.md": "index.md",
    "CONTRIBUTING.md": "contributing.md",
    "CHANGELOG.md": "changelog.md",
    "LICENSE": "license.md",
}
INCLUDE = re.compile(r"\A<!-- site: include (\S+) -->[^\n]*\n")
LINK = re.compile(r"(!?)\[((?:[^\[\]]|\[[^\]]*\])*)\]\(([^()\s]+)((?:\s+\"[^\"]*\")?)\)")
SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*:", re.I)


def _root(config) -> Path:
    return Path(config.config_file_path).resolve().parent


def _docs_dir(config) -> str:
    return Path(config.docs_dir).resolve().relative_to(_root(config)).as_posix()


def rewrite_links(markdown: str, source: str, page: str, docs: str, root: Path) -> str:
    """`markdown`, written in the repository file `source` (a path from the root), with each
    relative link made to work from the site page `page` (a path under `docs`)."""
    page_dir = posixpath.dirname(f"{docs}/{page}")
    source_dir = posixpath.dirname(source)
    problems: list[str] = []

    def replace(match: re.Match[str]) -> str:
        bang, text, target, title = match.groups()
        if SCHEME.match(target) or target.startswith(("#", "/")):
            return match.group(0)
        path, _, anchor = target.partition("#")
        anchor = f"#{anchor}" if anchor else ""
        resolved = posixpath.normpath(posixpath.join(source_dir, path))
        if resolved == docs or resolved.startswith(f"{docs}/"):
            new = posixpath.relpath(resolved, page_dir)
            return f"{bang}[{text}]({new}{anchor}{title})"
        if resolved in ROOT_PAGES:
            new = posixpath.relpath(f"{docs}/{ROOT_PAGES[resolved]}", page_dir)
            return f"{bang}[{text}]({new}{anchor}{title})"
        if not resolved.startswith("..") and (root / resolved).exists() and not bang:
            return text  # a source file: the site carries no source tree
        problems.append(f"'{target}' (from {source}) names no file of the repository")
        return match.group(0)

    out, fenced = [], False
    for line in markdown.splitlines(keepends=True):
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
        if fenced:
            out.append(line)
            continue
        pieces, last = [], 0
        for match in LINK.finditer(line):
            if line[: match.start()].count("`") % 2:  # inside an inline code span
                continue
            pieces += [line[last : match.start()], replace(match)]
            last = match.end()
        out.append("".join(pieces) + line[last:])
    for problem in problems:
        log.warning(f"Doc file '{page}' contains a link {problem}")
    return "".join(out)


def on_page_markdown(markdown: str, page, config, files) -> str:
    root, docs = _root(config), _docs_dir(config)
    source = f"{docs}/{page.file.src_uri}"
    included = INCLUDE.match(markdown)
    if included:
        source = posixpath.normpath(posixpath.join(posixpath.dirname(source), included[1]))
        if not (root / source).is_file():
            raise PluginError(f"{page.file.src_uri} includes {included[1]}, which does not exist")
        markdown = (root / source).read_text(encoding="utf-8")
        if not markdown.lstrip().startswith("# "):  # LICENSE: a title for the page
            markdown = f"# {Path(source).name.title()}\n\n```\n{markdown}```\n"
    return rewrite_links(markdown, source, page.file.src_uri, docs, root)


# What loads a resource into a page: a URL there must be of this site.
LOADS = re.compile(
    r"<(?:script|link|img|iframe|source|audio|video|embed|object)\b[^>]*?"
    r"\b(?:src|href|srcset|data)\s*=\s*[\"']?\s*((?:https?:)?//[^\"'\s>]+)",
    re.I,
)
CSS_LOADS = re.compile(r"(?:url\(\s*[\"']?|@import\s+[\"'])\s*((?:https?:)?//[^\"')\s]+)", re.I)


def external_loads(site_dir: Path) -> list[str]:
    """Each `file: URL` of the built site that loads something from another host."""
    found = []
    for path in sorted(site_dir.rglob("*")):
        if path.suffix not in (".html", ".css"):
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        pattern = LOADS if path.suffix == ".html" else CSS_LOADS
        for match in pattern.finditer(text):
            found.append(f"{path.relative_to(site_dir)}: {match[1]}")
        if path.suffix == ".html":
            for style in re.findall(r"<style\b[^>]*>(.*?)</style>", text, re.S | re.I):
                for match in CSS_LOADS.finditer(style):
                    found.append(f"{path.relative_to(site_dir)}: {match[1]}")
    return found


def on_post_build(config) -> None:
    found = external_loads(Path(config.site_dir))
    if found:
        raise PluginError(
            "the site loads from other hosts (it must read offline: no CDN, no web fonts):\n  "
            + "\n  ".join(found)
        )


__all__ = ["external_loads", "on_page_markdown", "on_post_build", "rewrite_links"]
