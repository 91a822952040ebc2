"""Uploads go through one storage interface: a local folder (the default) or an
S3-compatible bucket (STORAGE_URL=s3://...). The S3 tests talk HTTP to moto's
server on 127.0.0.1 (tests/servers.py); the upload and serve tests of
test_account_profile.py run on both backends too."""

import io

import boto3
import pytest
from PIL import Image

from directory import create_app
from directory.storage import LocalStorage, S3Storage, StoredFileMissing, from_url

from .conftest import login, post_form


def png(color=(10, 120, 200)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (24, 24), color).save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def therapist_client(client, therapist_user):
    assert login(client, therapist_user.email).status_code == 302
    return client


def upload_photo(client, data: bytes):
    return post_form(
        client,
        "/account/photo",
        {"photo": (io.BytesIO(data), "me.png")},
        form_page="/account/profile",
        content_type="multipart/form-data",
    )


def test_a_new_photo_replaces_the_old_file_and_removing_it_deletes_it(
    therapist_client, therapist_user, storage_backend, app
):
    from directory.extensions import db

    assert upload_photo(therapist_client, png((200, 0, 0))).status_code == 302
    profile = therapist_user.therapist
    db.session.refresh(profile)
    first = profile.photo
    assert upload_photo(therapist_client, png((0, 200, 0))).status_code == 302
    db.session.refresh(profile)
    second = profile.photo
    assert second != first and storage_backend.read("photos", second).startswith(b"\xff\xd8")  # re-encoded as JPEG
    with pytest.raises(StoredFileMissing):
        storage_backend.read("photos", first)
    served = app.test_client().get(f"/therapists/{profile.id}/photo")  # anonymous: the profile is listed
    assert served.status_code == 200 and served.get_data() == storage_backend.read("photos", second)
    assert served.headers["Cache-Control"] == "public, no-cache"
    served.close()

    removed = post_form(therapist_client, "/account/photo/remove", {}, form_page="/account/profile")
    assert removed.status_code == 302
    with pytest.raises(StoredFileMissing):
        storage_backend.read("photos", second)


def test_a_photo_whose_file_is_gone_is_a_404_not_a_500(factory, client, storage_backend):
    profile = factory.therapist(photo="0123456789abcdef.png")
    assert client.get(f"/therapists/{profile.id}/photo").status_code == 404


@pytest.mark.parametrize(
    "kind, name",
    [
        ("photos", "../secret.png"),
        ("photos", ".env"),
        ("photos", "a/b.png"),
        ("photos", "a\\b.png"),
        ("photos", ""),
        ("passwords", "x.png"),
    ],
)
def test_names_that_could_leave_the_store_are_refused(storage_backend, kind, name):
    with pytest.raises(StoredFileMissing):
        storage_backend.put(kind, name, b"x", "image/png")
    with pytest.raises(StoredFileMissing):
        storage_backend.read(kind, name)


def test_s3_objects_are_private_under_the_prefix_and_shared_by_every_client(s3_storage, s3_env):
    s3_storage.put("documents", "abc.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf")
    other_process = from_url(f"s3://{s3_storage.bucket}/site", None)  # another client, as another machine has
    assert other_process.read("documents", "abc.pdf") == b"%PDF-1.4\n%%EOF\n"
    raw = boto3.client("s3", endpoint_url=s3_env["AWS_ENDPOINT_URL"])
    head = raw.head_object(Bucket=s3_storage.bucket, Key="site/documents/abc.pdf")
    assert head["ContentType"] == "application/pdf"
    grants = raw.get_object_acl(Bucket=s3_storage.bucket, Key="site/documents/abc.pdf")["Grants"]
    assert [g["Permission"] for g in grants] == ["FULL_CONTROL"]
    assert all(g["Grantee"].get("Type") == "CanonicalUser" for g in grants)  # no AllUsers / AuthenticatedUsers
    other_process.delete("documents", "abc.pdf")
    with pytest.raises(StoredFileMissing):
        s3_storage.read("documents", "abc.pdf")


def test_storage_url_picks_the_backend(tmp_path, s3_env):
    assert isinstance(from_url(None, tmp_path), LocalStorage) and from_url("", tmp_path).root == tmp_path
    assert from_url("file:///srv/uploads", tmp_path).root.as_posix() == "/srv/uploads"
    s3 = from_url("s3://media/truetouch/", tmp_path)
    assert isinstance(s3, S3Storage) and s3.key("photos", "a.png") == "truetouch/photos/a.png"
    assert from_url("s3://media", tmp_path).key("photos", "a.png") == "photos/a.png"
    with pytest.raises(ValueError, match="s3://BUCKET"):
        from_url("ftp://example/uploads", tmp_path)


def test_the_app_reads_storage_url_and_boto3_reads_its_standard_variables(tmp_path, s3_env, monkeypatch):
    import importlib

    import config

    monkeypatch.setenv("STORAGE_URL", "s3://from-env")
    try:
        importlib.reload(config)
        assert config.Config.STORAGE_URL == "s3://from-env"
    finally:
        monkeypatch.delenv("STORAGE_URL")
        importlib.reload(config)
    app = create_app(
        "development", INSTANCE_PATH=str(tmp_path), SQLALCHEMY_DATABASE_URI="sqlite://", STORAGE_URL="s3://b"
    )
    backend = app.extensions["storage"]
    assert isinstance(backend, S3Storage) and backend.bucket == "b"
    assert backend.client.meta.endpoint_url == s3_env["AWS_ENDPOINT_URL"]  # boto3 read AWS_ENDPOINT_URL
    assert isinstance(create_app("testing", INSTANCE_PATH=str(tmp_path)).extensions["storage"], LocalStorage)
