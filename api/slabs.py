"""The slab yard: /api/slabs (the shop's slabs and remnants, their defect zones and photos) and the confirmation of a
job nested on it, POST /api/jobs/{id}/confirm."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any, Literal

import msgspec
import psycopg
from litestar import Controller, Request, Response, delete, get, patch, post, put
from litestar.datastructures import State
from litestar.exceptions import HTTPException, NotFoundException
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_409_CONFLICT, HTTP_413_REQUEST_ENTITY_TOO_LARGE, HTTP_415_UNSUPPORTED_MEDIA_TYPE
from msgspec import Meta, Struct

from api.errors import errors
from api.jobs import decode_cursor, encode_cursor
from api.security import identity
from engine.spec import NO_NUL, DefectZone, Length, Name, Text, Units
from engine.spec.job import MAX_DEFECTS
from pipeline import store, yard
from pipeline.rows import SlabRow

PHOTO_MAX_BYTES = 5 * 1024 * 1024  # a phone photo of a slab, as JPEG
# What each image type starts with: the photo is checked, not its Content-Type believed.
IMAGE_MAGIC = {"image/jpeg": (b"\xff\xd8\xff",), "image/png": (b"\x89PNG\r\n\x1a\n",), "image/webp": (b"RIFF",)}

Code = Annotated[str, Meta(min_length=1, max_length=64, pattern=r"^[^\x00\s][^\x00]*$")]  # a stock id in a job
MaterialName = Annotated[str, Meta(min_length=1, max_length=200, pattern=NO_NUL)]
SlabStatus = Literal["on_hand", "allocated", "consumed"]
Defects = Annotated[list[DefectZone], Meta(max_length=MAX_DEFECTS)]


class SlabIn(Struct, forbid_unknown_fields=True):
    """A slab or remnant for the yard; sizes and defect zones in `units`. Without a `code` one is made (S-xxxxxx)."""

    material: MaterialName
    thickness: Length
    length: Length
    width: Length
    code: Code | None = None
    material_type: Name | None = None
    units: Units = "mm"
    kind: Literal["full", "remnant"] = "full"
    defects: Defects = []
    notes: Text | None = None


class SlabPatch(Struct, forbid_unknown_fields=True):
    """Corrections to an on-hand slab; `status: "consumed"` takes it out of stock (cut or broken outside Studio)."""

    code: Code | None = None
    material: MaterialName | None = None
    material_type: Name | None = None
    thickness: Length | None = None
    length: Length | None = None
    width: Length | None = None
    units: Units | None = None
    kind: Literal["full", "remnant"] | None = None
    defects: Defects | None = None
    notes: Text | None = None
    status: SlabStatus | None = None


class SlabView(Struct):
    """A slab as the shop reads it: what is written on it, where it stands, then what it is."""

    id: uuid.UUID
    code: str
    status: str
    kind: str
    material: str
    material_type: str | None
    units: str  # of the sizes and the defect zones
    thickness: float
    length: float
    width: float
    defects: list[DefectZone]
    allocated_to: uuid.UUID | None  # the job holding it (allocated) or that cut it (consumed)
    parent_id: uuid.UUID | None  # a remnant's slab of origin
    notes: str | None
    photo_url: str | None
    created_at: dt.datetime
    updated_at: dt.datetime
    url: str


class SlabPage(Struct):
    items: list[SlabView]
    next_cursor: str | None


class Confirmation(Struct):
    job_id: uuid.UUID
    consumed: list[str]  # codes of the slabs cut
    remnants: list[SlabView]  # the offcuts now on hand


def slab_url(slab_id: uuid.UUID) -> str:
    return f"/api/slabs/{slab_id}"


def view(row: SlabRow) -> SlabView:
    url = slab_url(row.id)
    return SlabView(id=row.id, code=row.code, material=row.material_name, material_type=row.material_type,
                    thickness=row.thickness, length=row.length, width=row.width, units=row.units, kind=row.kind,
                    status=row.status, defects=msgspec.convert(row.defects, list[DefectZone]),
                    allocated_to=row.allocated_to, parent_id=row.parent_id, notes=row.notes,
                    photo_url=f"{url}/photo" if row.has_photo else None, created_at=row.created_at,
                    updated_at=row.updated_at, url=url)


def _owner(request: Request[Any, Any, Any]) -> str | None:
    return identity(request).owner


def _conflict(detail: str) -> HTTPException:
    return HTTPException(status_code=HTTP_409_CONFLICT, detail=detail)


class SlabsController(Controller):
    path = "/api/slabs"
    tags = ["slab yard"]

    @post("/", operation_id="createSlab", status_code=201, responses=errors(400, 409, 413, 422))
    async def create(self, request: Request[Any, Any, Any], state: State,
                     data: JSONBody[SlabIn]) -> Response[SlabView]:
        """Add a slab or remnant to the yard, on hand; its code must be new among the yard's live slabs."""
        code = data.code or f"S-{uuid.uuid4().hex[:6].upper()}"
        row = await store.insert_slab(state.pool, **{**msgspec.structs.asdict(data), "code": code},
                                      owner=_owner(request))
        if row is None:
            raise _conflict(f"code: the yard already has a slab {code!r} (on hand or allocated)")
        return Response(view(row), status_code=201, headers={"Location": slab_url(row.id)})

    @get("/", operation_id="listSlabs", responses=errors(400))
    async def list_slabs(
        self,
        request: Request[Any, Any, Any],
        state: State,
        status: Annotated[SlabStatus | None, QueryParameter()] = None,
        kind: Annotated[Literal["full", "remnant"] | None, QueryParameter()] = None,
        material: Annotated[str | None, QueryParameter(max_length=200)] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
        cursor: Annotated[str | None, QueryParameter(max_length=200)] = None,
    ) -> SlabPage:
        """The yard newest first; pass `next_cursor` back as `cursor` for the next page."""
        before = decode_cursor(cursor) if cursor else None
        rows = await store.list_slabs(state.pool, owner=_owner(request), status=status, kind=kind,
                                      material=material, before=before, limit=limit)
        nxt = encode_cursor(rows[-1].created_at, rows[-1].id) if len(rows) == limit else None
        return SlabPage(items=[view(row) for row in rows], next_cursor=nxt)

    @get("/{slab_id:uuid}", operation_id="getSlab", responses=errors(404))
    async def get_slab(self, request: Request[Any, Any, Any], state: State, slab_id: FromPath[uuid.UUID]) -> SlabView:
        """One slab: sizes, status, the job holding it, its defect zones and the link to its photo."""
        return view(await _slab(state, request, slab_id))

    @patch("/{slab_id:uuid}", operation_id="updateSlab", responses=errors(400, 404, 409, 413, 422))
    async def update(self, request: Request[Any, Any, Any], state: State, slab_id: FromPath[uuid.UUID],
                     data: JSONBody[SlabPatch]) -> SlabView:
        """Correct an on-hand slab, or take it out of stock with `status: "consumed"`; allocated and consumed
        slabs change only through their jobs."""
        changes = data
        current = await _slab(state, request, slab_id)
        if changes.status is not None and changes.status != current.status and (
                current.status, changes.status) != ("on_hand", "consumed"):
            raise _conflict(f"status: a slab goes from on_hand to consumed by hand, not from {current.status} to "
                            f"{changes.status}; jobs allocate slabs, and a job's end or confirmation moves them on")
        fields = {name: getattr(changes, name) for name in store.SLAB_FIELDS if name != "material_name"}
        fields["material_name"] = changes.material
        if fields["status"] == current.status:
            fields["status"] = None
        try:
            row = await store.update_slab(state.pool, slab_id, _owner(request), **fields)
        except psycopg.errors.UniqueViolation:
            raise _conflict(f"code: the yard already has a slab {changes.code!r}") from None
        if row is None:
            raise _conflict(f"slab {current.code} is {current.status}: only an on-hand slab is changed by hand")
        return view(row)

    @delete("/{slab_id:uuid}", operation_id="deleteSlab", status_code=204, responses=errors(404, 409))
    async def delete_slab(self, request: Request[Any, Any, Any], state: State, slab_id: FromPath[uuid.UUID]) -> None:
        """Remove a slab from the yard (with its photo); an allocated slab belongs to its job until that ends."""
        if not await store.delete_slab(state.pool, slab_id, _owner(request)):
            current = await _slab(state, request, slab_id)
            raise _conflict(f"slab {current.code} is allocated to job {current.allocated_to}: cancel or confirm "
                            "that job first")

    @put("/{slab_id:uuid}/photo", operation_id="putSlabPhoto", status_code=204,
         request_max_body_size=PHOTO_MAX_BYTES, responses=errors(404, 413, 415))
    async def put_photo(self, request: Request[Any, Any, Any], state: State, slab_id: FromPath[uuid.UUID]) -> None:
        """The slab's photo, as the raw body: JPEG, PNG or WebP, at most 5 MB; replaces the one before."""
        declared = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if declared not in IMAGE_MAGIC:
            raise HTTPException(status_code=HTTP_415_UNSUPPORTED_MEDIA_TYPE,
                                detail=f"photo: send image/jpeg, image/png or image/webp, not {declared or 'nothing'}")
        data = await request.body()
        if len(data) > PHOTO_MAX_BYTES:  # a chunked body is counted as it arrives, but check what arrived
            raise HTTPException(status_code=HTTP_413_REQUEST_ENTITY_TOO_LARGE,
                                detail=f"photo: at most {PHOTO_MAX_BYTES // (1024 * 1024)} MB")
        if not data.startswith(IMAGE_MAGIC[declared]) or (declared == "image/webp" and data[8:12] != b"WEBP"):
            raise HTTPException(status_code=HTTP_415_UNSUPPORTED_MEDIA_TYPE,
                                detail=f"photo: the body is not a {declared.removeprefix('image/').upper()} image")
        if not await store.put_slab_photo(state.pool, slab_id, _owner(request), content_type=declared, data=data):
            raise NotFoundException(detail=f"no slab {slab_id}")

    @get("/{slab_id:uuid}/photo", operation_id="getSlabPhoto", media_type="application/octet-stream",
         responses=errors(404))
    async def get_photo(self, request: Request[Any, Any, Any], state: State,
                        slab_id: FromPath[uuid.UUID]) -> Response[bytes]:
        """The slab's photo, with its content type."""
        row = await store.get_slab_photo(state.pool, slab_id, _owner(request))
        if row is None:
            raise NotFoundException(detail=f"slab {slab_id} has no photo")
        return Response(bytes(row.data), media_type=row.content_type, headers={
            "ETag": f'"{row.sha256}"', "Cache-Control": "private, no-cache", "Vary": "Origin"})


class ConfirmController(Controller):
    path = "/api/jobs"
    tags = ["jobs"]

    @post("/{job_id:uuid}/confirm", operation_id="confirmJob", status_code=200, responses=errors(404, 409))
    async def confirm(self, request: Request[Any, Any, Any], state: State, job_id: FromPath[uuid.UUID]) -> Confirmation:
        """The shop cut a job nested on the yard: its slabs become consumed and its usable offcuts go on hand as
        remnants. Once: confirming again is a 409."""
        try:
            done = await yard.confirm_job(state.pool, job_id, _owner(request))
        except yard.ConfirmRefused as exc:
            if exc.status == 404:
                raise NotFoundException(detail=str(exc)) from None
            raise _conflict(str(exc)) from None
        request.scope["state"]["log"] = {"job_id": str(job_id), "consumed": done.consumed,
                                         "remnants": [row.code for row in done.remnants]}
        return Confirmation(job_id=job_id, consumed=done.consumed, remnants=[view(row) for row in done.remnants])


async def _slab(state: State, request: Request[Any, Any, Any], slab_id: uuid.UUID) -> SlabRow:
    row = await store.get_slab(state.pool, slab_id, _owner(request))
    if row is None:
        raise NotFoundException(detail=f"no slab {slab_id}")
    return row

