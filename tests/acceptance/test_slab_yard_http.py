"""The slab yard end to end, as a shop uses it: slabs in over HTTP, an inventory job through a real `studio worker`,
the remnant taken first, the job confirmed, the slab consumed and its offcut back in the yard."""

from __future__ import annotations

import io

import pypdf

from tests.acceptance.conftest import Cluster

QUARTZ = {"material": "Quartz (engineered)", "material_type": "quartz", "thickness": 30}


def test_a_job_is_cut_from_the_yard_and_its_offcut_goes_back(cluster: Cluster) -> None:
    cluster.api()
    cluster.worker()
    http = cluster.http
    full = http.post("/api/slabs", json={**QUARTZ, "code": "F-7", "length": 3050, "width": 1440})
    crack = {"type": "rect", "x": 1500, "y": 0, "length": 20, "width": 300}
    rem = http.post("/api/slabs", json={**QUARTZ, "code": "R-12", "kind": "remnant", "length": 2000, "width": 1000,
                                        "defects": [crack]})
    assert full.status_code == rem.status_code == 201, (full.text, rem.text)
    job = {"spec_version": "1.0", "job": {"id": "YARD-1", "name": "Vanity from the yard"},
           "material": {"name": "Quartz (engineered)", "type": "quartz", "thickness": 30},
           "slab_stock": "inventory",
           "pieces": [{"id": "V", "shape": {"type": "rect", "length": 1200, "depth": 600}}]}
    r = cluster.submit(job)
    assert r.status_code == 202, r.text
    job_id = r.json()["id"]
    done = cluster.wait_job(job_id)
    assert done["status"] == "succeeded", done["error"]
    (layout,) = done["summary"]["slabs"]["layouts"]
    assert (layout["slab_id"], layout["kind"]) == ("R-12", "remnant")  # the remnant first
    (placed,) = layout["placements"]
    assert placed["x_mm"] + 1200 + 4 <= 1500 or placed["x_mm"] >= 1520 + 4 or placed["y_mm"] >= 300 + 4  # the crack
    assert layout["remnants"], "a 2000 x 1000 remnant less a 1200 x 600 piece leaves an offcut"
    pdf = http.get(f"/api/jobs/{job_id}/artifacts/shop-drawing.pdf")
    assert "R-12" in "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf.content)).pages)
    held = http.get(rem.json()["url"]).json()
    assert (held["status"], held["allocated_to"]) == ("allocated", job_id)
    assert http.get(full.json()["url"]).json()["status"] == "on_hand"
    # Nobody may delete a slab a job holds.
    assert http.delete(rem.json()["url"]).status_code == 409

    confirmed = http.post(f"/api/jobs/{job_id}/confirm")
    assert confirmed.status_code == 200, confirmed.text
    body = confirmed.json()
    assert body["consumed"] == ["R-12"] and len(body["remnants"]) == len(layout["remnants"])
    offcut = body["remnants"][0]
    first = layout["remnants"][0]
    assert (offcut["code"], offcut["kind"], offcut["status"], offcut["parent_id"]) == \
        ("R-12-R1", "remnant", "on_hand", rem.json()["id"])
    assert (offcut["length"], offcut["width"]) == (first["length_mm"], first["width_mm"])
    assert http.get(rem.json()["url"]).json()["status"] == "consumed"
    on_hand = {s["code"] for s in http.get("/api/slabs", params={"status": "on_hand"}).json()["items"]}
    assert on_hand == {"F-7", *(s["code"] for s in body["remnants"])}
    again = http.post(f"/api/jobs/{job_id}/confirm")
    assert again.status_code == 409 and "already confirmed" in again.json()["detail"]

    # The next job from the yard takes the new offcut before the full slab.
    r = cluster.submit({**job, "job": {"id": "YARD-2", "name": "Second vanity"},
                        "pieces": [{"id": "W", "shape": {"type": "rect", "length": 500, "depth": 400}}]})
    second = cluster.wait_job(r.json()["id"])
    assert second["status"] == "succeeded", second["error"]
    assert [lay["slab_id"] for lay in second["summary"]["slabs"]["layouts"]][0].startswith("R-12-R")
    # A job that does not use the yard is not confirmed.
    plain = cluster.submit({**job, "job": {"id": "PLAIN", "name": "own stock"},
                            "slab_stock": [{"id": "S", "length": 3050, "width": 1440}]}).json()["id"]
    cluster.wait_job(plain)
    assert http.post(f"/api/jobs/{plain}/confirm").status_code == 409


def test_two_workers_never_cut_two_jobs_from_one_remnant(cluster: Cluster) -> None:
    cluster.api()
    workers = [cluster.worker(WORKER_ID=f"yard-{i}") for i in range(2)]
    http = cluster.http
    rem = http.post("/api/slabs", json={**QUARTZ, "code": "R-1", "kind": "remnant", "length": 1300, "width": 800})
    full = http.post("/api/slabs", json={**QUARTZ, "code": "F-1", "length": 3050, "width": 1440})
    assert rem.status_code == full.status_code == 201
    jobs = []
    for i in range(4):  # each fits the remnant alone; submitted together, so the workers race for it
        r = cluster.submit({"spec_version": "1.0", "job": {"id": f"RACE-{i}", "name": "race"},
                            "material": {"name": "Quartz (engineered)", "type": "quartz", "thickness": 30},
                            "slab_stock": "inventory", "options": {"outputs": {"pdf": None}},
                            "pieces": [{"id": "P", "shape": {"type": "rect", "length": 1200, "depth": 600}}]})
        jobs.append(r.json()["id"])
    done = [cluster.wait_job(job_id) for job_id in jobs]
    slabs = [lay["slab_id"] for job in done if job["status"] == "succeeded"
             for lay in job["summary"]["slabs"]["layouts"]]
    assert slabs.count("R-1") == 1 and slabs.count("F-1") <= 1  # each slab to one job at most
    on_remnant = next(job["id"] for job in done if job["status"] == "succeeded"
                      and job["summary"]["slabs"]["layouts"][0]["slab_id"] == "R-1")
    assert http.get(rem.json()["url"]).json()["allocated_to"] == on_remnant
    # Two slabs for four jobs: the last two find the yard empty and fail saying so.
    failed = [job for job in done if job["status"] == "failed"]
    assert len(failed) == 2 and all("no slab on hand" in job["error"] for job in failed)
    outcomes = [e["outcome"] for w in workers for e in w.events("stage_finished")]
    assert outcomes.count("succeeded") == 2 and set(outcomes) <= {"succeeded", "renest", "failed"}, outcomes
