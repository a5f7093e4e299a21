"""Upload attacks: an unauthenticated or oversized body is refused before (or as soon as) it is read; pixel bombs
are refused from their header before a frame is decoded; a truncated MP4 is refused without naming server files."""

from __future__ import annotations

import pytest
from apiutil import SAMPLE, add_user, api_client, create_patient, login, make_settings
from securityutil import MB, folder_bytes, megabytes, multipart_head, post_chunks, raw_chunked_post, serve
from videobombs import gif_bomb, mjpeg_avi_bomb

from formcheck.io.probe import VideoLimits, limit_problem, read_header

FORM = {"content-type": "multipart/form-data; boundary=fcboundary"}


@pytest.fixture
def api(tmp_path):
    settings = make_settings(tmp_path, max_upload_mb=5)
    with api_client(settings) as client:
        add_user(client, "thera")
        therapist = login(client, "thera")
        create_patient(client, therapist, "patient1")
        yield client, login(client, "patient1"), settings


def upload(client, headers, path, **fields):
    return client.post("/api/uploads", data={"exercise": "squat", **fields}, headers=headers,
                       files={"file": (path.name, path.read_bytes(), "application/octet-stream")})


def test_an_unauthenticated_chunked_body_gets_401_before_a_byte_is_read(api):
    client, _, settings = api
    sent = post_chunks(client, "/api/uploads", FORM, megabytes(200, multipart_head()))
    assert sent.status == 401 and b"Log in first" in sent.body
    assert sent.chunks_read == 0, "the body was read before the login was checked"
    assert folder_bytes(settings.upload_dir) == 0


def test_an_oversized_chunked_upload_stops_at_the_limit(api):
    client, patient, settings = api  # limit 5 MB
    sent = post_chunks(client, "/api/uploads", {**FORM, **patient}, megabytes(200, multipart_head()))
    assert sent.status == 413, sent.body
    assert sent.chunks_read <= 1 + 6, f"{sent.chunks_read} MB read for a 5 MB limit"
    assert folder_bytes(settings.upload_dir) == 0, "the partial upload was kept"


def test_an_announced_oversized_upload_is_refused_before_reading(api):
    client, patient, settings = api
    headers = {**FORM, **patient, "content-length": str(200 * MB)}
    sent = post_chunks(client, "/api/uploads", headers, megabytes(200, multipart_head()))
    assert sent.status == 413 and sent.chunks_read == 0
    assert sent.headers["content-type"].startswith("application/problem+json")


def test_an_oversized_json_body_is_cut_off_too(api):
    client, patient, _ = api
    sent = post_chunks(client, "/api/patients", {"content-type": "application/json"}, megabytes(200, b'{"a": "'))
    assert sent.status == 413 and sent.chunks_read <= 2  # 1 MB limit: refused at the first chunk past it


def test_a_gif_with_an_8000x8000_screen_is_refused_from_its_header(api, tmp_path, monkeypatch):
    client, patient, settings = api
    bomb = gif_bomb(tmp_path / "bomb.gif")
    assert bomb.stat().st_size < 1000
    monkeypatch.setattr("server.services.uploads.VideoFileSource", _no_decoding)
    r = upload(client, patient, bomb)
    assert r.status_code == 413, r.text
    assert r.json()["title"] == "Video too large" and "8000x8000" in r.json()["detail"]
    assert folder_bytes(settings.upload_dir) == 0


def test_an_8000x8000_mjpeg_avi_is_refused_from_its_header(api, tmp_path, monkeypatch):
    client, patient, settings = api
    bomb = mjpeg_avi_bomb(tmp_path / "bomb.avi")
    monkeypatch.setattr("server.services.uploads.VideoFileSource", _no_decoding)
    r = upload(client, patient, bomb)
    assert r.status_code == 413, r.text
    assert "8000x8000" in r.json()["detail"] and "megapixels" in r.json()["detail"]
    assert folder_bytes(settings.upload_dir) == 0


def _no_decoding(*_args, **_kwargs):
    raise AssertionError("a frame decoder was opened for a video the header check should have refused")


def test_the_header_limits_cover_frames_and_decoded_bytes(tmp_path):
    header = read_header(gif_bomb(tmp_path / "small.gif", width=64, height=48, frames=30))
    assert (header.width, header.height, header.frames) == (64, 48, 30)
    assert limit_problem(header, VideoLimits(64 * 48, 30, 64 * 48 * 3 * 30)) is None
    assert "frames" in limit_problem(header, VideoLimits(64 * 48, 29, 10**12))
    assert "decode" in limit_problem(header, VideoLimits(64 * 48, 30, 64 * 48 * 3 * 30 - 1))
    assert "megapixels" in limit_problem(header, VideoLimits(64 * 48 - 1, 30, 10**12))


def test_a_truncated_mp4_is_refused_without_naming_server_files(api, tmp_path):
    import av

    client, patient, settings = api
    fast = tmp_path / "faststart.mp4"  # the index first, as phones write it: half the file still opens
    with av.open(str(SAMPLE)) as src, av.open(str(fast), "w", options={"movflags": "faststart"}) as out:
        stream = out.add_stream_from_template(src.streams.video[0])
        for packet in src.demux(src.streams.video[0]):
            if packet.dts is not None:
                packet.stream = stream
                out.mux(packet)
    half = tmp_path / "half.mp4"
    half.write_bytes(fast.read_bytes()[: fast.stat().st_size // 2])
    r = upload(client, patient, half)
    assert r.status_code == 422, r.text
    assert r.json()["title"] == "Damaged video"
    assert ".video" not in r.text and str(settings.data_dir) not in r.text
    assert folder_bytes(settings.upload_dir) == 0


@pytest.mark.slow
def test_chunked_200_mb_against_the_real_server(tmp_path):
    """Over HTTP, against ``formcheck serve``: no token -> 401 and nothing spooled to the temp or upload folder;
    with a token, the 413 comes after about the limit (5 MB), not after 200 MB."""
    with serve(tmp_path, FORMCHECK_MAX_UPLOAD_MB="5") as server:
        assert server.formcheck("users", "add", "ther1", "--password-stdin", stdin="correct horse battery\n"
                                ).returncode == 0
        status, sent_mb = raw_chunked_post(server.port, "/api/uploads", FORM, 200, multipart_head())
        assert status == 401 and sent_mb < 50, (status, sent_mb)
        assert folder_bytes(server.tmp_dir) == 0 and folder_bytes(server.data_dir / "uploads") == 0
        import httpx

        token = httpx.post(f"{server.url}/api/auth/token",
                           data={"username": "ther1", "password": "correct horse battery"}).json()["access_token"]
        status, sent_mb = raw_chunked_post(server.port, "/api/uploads",
                                           {**FORM, "Authorization": f"Bearer {token}"}, 200, multipart_head())
        assert status == 413 and sent_mb < 50, (status, sent_mb)
        assert folder_bytes(server.tmp_dir) == 0 and folder_bytes(server.data_dir / "uploads") == 0
