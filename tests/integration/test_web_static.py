"""test_web_static.py - sembark-ingressd serving the browser client that
`make` built (build/web, [ingress] static_dir) from memory: the page on the
client's routes, its assets with their types and caching, gzip, 304, HEAD,
405, and the paths that stay 404 (traversal in every spelling, /api/, the
page's own file name). A static_dir without index.html stops ingressd."""

import gzip
import os
import re

import pytest

import sembark

PAGE_ROUTES = ("/", "/login", "/join/0123456789abcdef", "/app", "/app/sessions", "/app/x/y")
TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
         ".svg": "image/svg+xml"}


def assets(page):
    return sorted(set(re.findall(r'(?:src|href)="(/assets/[^"]+)"', page)))


def test_page_on_every_client_route(shared_stack):
    first = None
    for path in PAGE_ROUTES:
        r = shared_stack.get(path)
        assert r.status_code == 200, (path, r.status_code, r.text[:200])
        assert r.headers["Content-Type"] == "text/html; charset=utf-8", path
        assert r.headers["Cache-Control"] == "no-cache", path
        assert "default-src 'self'" in r.headers["Content-Security-Policy"], path
        assert r.headers["ETag"].startswith('"'), path
        first = first or r.text
        assert r.text == first, path
    assert '<html lang="en">' in first
    version = open(os.path.join(sembark.REPO_ROOT, "VERSION")).read().strip()
    assert '<meta name="sembark-version" content="%s">' % version in first
    assert "<script>" not in first and "style=" not in first     # nothing inline


def test_assets_types_caching_gzip(shared_stack):
    page = shared_stack.get("/").text
    found = assets(page)
    assert any(a.endswith("/main.js") for a in found) and any(a.endswith(".css") for a in found), found
    for path in found:
        assert re.match(r"^/assets/[0-9a-f]{12}/", path), path
        r = shared_stack.get(path, headers={"Accept-Encoding": "identity"})
        assert r.status_code == 200, path
        assert r.headers["Content-Type"] == TYPES[os.path.splitext(path)[1]], path
        assert r.headers["Cache-Control"] == "public, max-age=31536000, immutable", path
        assert "Content-Encoding" not in r.headers, path
        z = shared_stack.get(path, headers={"Accept-Encoding": "gzip"}, stream=True)
        if "Vary" in z.headers:
            assert z.headers["Content-Encoding"] == "gzip", path
            assert gzip.decompress(z.raw.read()) == r.content, path
        again = shared_stack.get(path, headers={"If-None-Match": r.headers["ETag"],
                                                "Accept-Encoding": "identity"})
        assert again.status_code == 304 and again.content == b"", path


def test_head_and_methods(shared_stack):
    get = shared_stack.get("/login")
    head = shared_stack.request("HEAD", "/login")
    assert head.status_code == 200 and head.content == b""
    assert head.headers["Content-Length"] == get.headers["Content-Length"]
    for method, path in (("POST", "/login"), ("DELETE", "/app"), ("PUT", assets(get.text)[0])):
        r = shared_stack.request(method, path)
        assert r.status_code == 405, (method, path)
        assert r.headers["Allow"] == "GET, HEAD"
        assert r.json()["error"] == "method_not_allowed"


@pytest.mark.parametrize("path", [
    "/index.html", "/nope", "/login/", "/join/", "/join/a/b", "/assets/", "/assets/main.js",
    "/api/nope", "/api/me/x", "/.well-known/nope", "/%2e%2e/VERSION", "/assets/%2e%2e/%2e%2e/VERSION",
    "/..%2f..%2fVERSION", "/assets/..%2F..%2F..%2Fetc%2Fpasswd", "/%5c..%5cVERSION", "/.git/config",
    "/web/index.html", "/%00", "/assets%00/x",
])
def test_other_paths_are_404_json(shared_stack, path):
    r = sembark.raw_request(shared_stack.port, ("GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                                               % path).encode())
    assert r is not None and r.status in (400, 404), (path, r)
    assert r.headers.get("content-type") == "application/json; charset=utf-8", (path, r)
    assert r.headers.get("cache-control") == "no-store", (path, r)
    assert b"<html" not in r.body and b"root:" not in r.body, path


def test_api_routes_never_answer_the_page(shared_stack):
    r = shared_stack.get("/api/me")
    assert r.status_code == 401 and r.headers["Content-Type"].startswith("application/json")
    r = shared_stack.get("/healthz")
    assert r.status_code == 200 and r.json()["status"] == "ok"


def test_static_dir_without_index_stops_ingressd(make_stack, base_dir):
    empty = os.path.join(base_dir, "web-without-index")
    os.makedirs(empty, exist_ok=True)
    with open(os.path.join(empty, "app.js"), "w") as f:
        f.write("x")
    s = make_stack(start=False, config={"ingress": {"static_dir": empty}})
    s.start("ingressd", wait_ready=False)
    rc = s.wait_exit("ingressd", timeout=10)
    assert rc not in (0, None), rc
    assert "static_dir has no index.html" in s.stderr("ingressd"), s.stderr("ingressd")
    assert not s.daemons["ingressd"].notify.find("READY", "1")
