"""``/api/v1/admin``: users, jobs and the emergency stop, behind the ``admin`` scope (and the admin role).

The same functions the Admin page calls, audited the same way: ``app.auth.users`` (``search_users``,
``set_role``, ``activate_user``, ``deactivate_user``; they keep the last active admin and write the audit
row), ``workers.inspect`` (queues, workers, failed jobs) and ``workers.control`` (stop, resume; the audit
row is written here, as the Admin page's callback does). The acting user is the token's owner.
"""
from __future__ import annotations

from flask import current_app
from flask_smorest import abort

import app.hot as hot
from app.api.v1.auth import current_api_user, require, resource_blueprint
from app.api.v1.common import iso
from app.api.v1.owned import missing, refuse
from app.api.v1.schemas import (AdminUserListSchema, AdminUserSchema, CacheClearedSchema, CacheClearRequestSchema,
                                CreateUserSchema, DeletedUserSchema, DeleteUserQuerySchema, DeletionPreviewSchema,
                                FailedJobListSchema, JobActionSchema, JobsSchema, StopRequestSchema,
                                SystemStateSchema, UserChangeSchema, UserPasswordSchema, UserQuerySchema)
from app.audit.log import Actor, record
from app.auth import users
from app.extensions import client_ip, db
from app.models.user import User

blp = resource_blueprint("admin", __name__, "/api/v1/admin", "Users, jobs and the emergency stop (admin scope)")
USER = "/users/<int(min=1, max=2147483647):user_id>"
FAILED = "/jobs/failed/<string(minlength=1, maxlength=32):queue>/<string(minlength=1, maxlength=64):job_id>"


def _settings():
    return current_app.config["CW_SETTINGS"]


def _admin():
    """The token's owner, re-checked as an active admin now (the ``admin`` scope already needs the role)."""
    user = current_api_user()
    if not user.is_admin:
        abort(403, message="only an admin may use the admin endpoints")
    return user


def user_view(user: User, last_activity=None) -> dict:
    return {"id": user.id, "email": user.email, "role": user.role, "active": bool(user.active),
            "created_at": iso(user.created_at), "last_login_at": iso(user.last_login_at),
            "last_activity_at": iso(last_activity)}


@blp.get("/users")
@blp.arguments(UserQuerySchema(), location="query")
@blp.response(200, AdminUserListSchema)
@require("admin")
def list_users(args):
    """Every user (or those whose e-mail contains ``search`` / of ``role``) with their last activity."""
    _admin()
    rows = users.search_users(args["search"], args["role"])
    out = {"users": [user_view(r.user, r.last_activity_at) for r in rows]}
    db.session.commit()
    return out


@blp.patch(USER)
@blp.arguments(UserChangeSchema(), location="json")
@blp.response(200, AdminUserSchema)
@require("admin")
def change_user(change, user_id: int):
    """Change one user's role, or activate / deactivate them (their sessions end; audited).

    The last active admin cannot be demoted or deactivated, and nobody changes their own account here."""
    acting = _admin()
    if db.session.get(User, user_id) is None:
        db.session.rollback()
        abort(404, message=f"no user {user_id}")
    field = next(iter(change))
    try:
        if field == "role":
            user = users.set_role(user_id, change["role"], acting, ip=client_ip())
        elif change["active"]:
            user, _changed = users.activate_user(user_id, acting, ip=client_ip())
        else:
            user, _changed = users.deactivate_user(user_id, acting, ip=client_ip())
    except users.UserError as exc:
        db.session.rollback()
        abort(422, message=str(exc), errors=[{"field": f"json.{field}", "message": str(exc)}])
    out = user_view(user)
    db.session.commit()
    return out


@blp.get("/jobs")
@blp.response(200, JobsSchema)
@require("admin")
def jobs():
    """Queue depths (queued, running, failed) and the RQ workers; empty in embedded mode (in-process jobs)."""
    _admin()
    settings = _settings()
    if settings.embedded:
        return {"embedded": True, "queues": [], "workers": []}
    from workers import inspect

    conn = hot.redis_connection(settings.redis_url)
    return {"embedded": False,
            "queues": [vars(q) for q in inspect.queues(conn)],
            "workers": [{**vars(w), "queues": list(w.queues)} for w in inspect.workers(conn)]}


@blp.get("/jobs/failed")
@blp.response(200, FailedJobListSchema)
@require("admin")
def failed_jobs():
    """The newest failed jobs of every queue with their tracebacks (RQ's failed-job registries)."""
    _admin()
    settings = _settings()
    if settings.embedded:
        return {"failed": []}
    from workers import inspect

    return {"failed": [vars(j) for j in inspect.failed_jobs(hot.redis_connection(settings.redis_url))]}


def _state(settings) -> dict:
    from workers import control

    stop = hot.system_state(settings).stopped()
    return {"stopped": stop is not None, "by": stop and stop.get("by"), "at": stop and stop.get("at"),
            "reason": stop and stop.get("reason"), "workers_suspended": control.workers_suspended(settings)}


@blp.get("/system")
@blp.response(200, SystemStateSchema)
@require("admin")
def system():
    """Whether the emergency stop is in force (who, when, why) and whether RQ's workers are suspended."""
    _admin()
    return _state(_settings())


@blp.post("/system/stop")
@blp.arguments(StopRequestSchema(), location="json")
@blp.response(200, SystemStateSchema)
@require("admin")
def stop(form):
    """Emergency stop: the schedule enqueues nothing, RQ workers are suspended, alerts and paper trading pause."""
    from workers import control

    acting = _admin()
    settings = _settings()
    before = hot.system_state(settings).stopped()
    try:
        doc = control.emergency_stop(settings, acting.email, form["reason"])
    except ValueError as exc:
        abort(422, message=str(exc), errors=[{"field": "json.reason", "message": str(exc)}])
    record(db.session, "system.stop", Actor.of(acting, client_ip()), target="system", before={"stop": before},
           after={"stop": doc})
    db.session.commit()
    return _state(settings)


@blp.post("/system/resume")
@blp.response(200, SystemStateSchema)
@require("admin")
def resume():
    """Lift the emergency stop and resume the workers (audited; harmless when nothing was stopped)."""
    from workers import control

    acting = _admin()
    settings = _settings()
    before = hot.system_state(settings).stopped()
    control.resume(settings)
    record(db.session, "system.resume", Actor.of(acting, client_ip()), target="system", before={"stop": before},
           after={"stop": None})
    db.session.commit()
    return _state(settings)


# ------------------------------------------------------------------ create, reset, delete (the Admin page's)


def _user_or_404(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        missing("user", user_id)
    return user


def _refused(exc: "users.UserError", field: str):
    refuse(field, str(exc), detail=str(exc))


@blp.post("/users")
@blp.arguments(CreateUserSchema(), location="json")
@blp.response(201, UserPasswordSchema)
@require("admin")
def create_user(form):
    """Create an active user with a generated password, returned only in this answer (audited)."""
    acting = _admin()
    try:
        user, password = users.create_with_password(form["email"], form["role"], acting, ip=client_ip())
    except users.UserError as exc:
        _refused(exc, "email")
    out = {"user": user_view(user), "password": password}
    db.session.commit()
    return out, 201, {"Cache-Control": "no-store", "Location": f"/api/v1/admin/users/{user.id}"}


@blp.post(USER + "/password")
@blp.response(200, UserPasswordSchema)
@require("admin")
def reset_password(user_id: int):
    """A new generated password for the user (returned once); every session of theirs ends (audited)."""
    acting = _admin()
    _user_or_404(user_id)
    if user_id == acting.id:
        refuse("user_id", "reset your own password on your account page, not here", where="path")
    try:
        user, password = users.reset_password(user_id, acting, ip=client_ip())
    except users.UserError as exc:
        _refused(exc, "user_id")
    out = {"user": user_view(user), "password": password}
    db.session.commit()
    return out, 200, {"Cache-Control": "no-store"}


@blp.get(USER + "/deletion")
@blp.response(200, DeletionPreviewSchema)
@require("admin")
def deletion_preview(user_id: int):
    """What deleting the user would also delete (the Admin page's confirmation); changes nothing."""
    _admin()
    user = _user_or_404(user_id)
    out = {"user": user_view(user), "owned": users.owned_counts(user.id)}
    db.session.commit()
    return out


@blp.delete(USER)
@blp.arguments(DeleteUserQuerySchema(), location="query")
@blp.response(200, DeletedUserSchema)
@require("admin")
def delete_user(args, user_id: int):
    """Delete a user and everything they own, confirmed by ``confirm=<their e-mail>`` (audited).

    As on the Admin page: the last active admin is never deleted and nobody deletes themselves."""
    acting = _admin()
    user = _user_or_404(user_id)
    email = user.email
    if args["confirm"].strip().lower() != email:
        refuse("confirm", f"send confirm={email} to delete this user and what they own "
                          f"(GET /api/v1/admin/users/{user_id}/deletion lists it)", where="query")
    try:
        counts = users.delete_user(user_id, acting, ip=client_ip())
    except users.UserError as exc:
        _refused(exc, "user_id")
    return {"email": email, "deleted": counts}


# ------------------------------------------------------------------ failed jobs and the cache


def _redis_or_409(what: str):
    settings = _settings()
    if settings.embedded:
        abort(409, message=f"embedded mode (in-process jobs) has no {what}")
    return settings, hot.redis_connection(settings.redis_url)


def _failed_job(queue: str, job_id: str, requeue: bool) -> dict:
    from workers import inspect
    from workers.queues import POLICIES

    acting = _admin()
    _settings_, conn = _redis_or_409("failed-job registry")
    if queue not in POLICIES:
        missing("queue", queue)
    try:
        (inspect.requeue if requeue else inspect.delete)(conn, queue, job_id)
    except ValueError:
        missing(f"failed job in {queue}:", job_id)
    record(db.session, "job.requeue" if requeue else "job.delete", Actor.of(acting, client_ip()),
           target=f"{queue} {job_id}")
    db.session.commit()
    return {"id": job_id, "queue": queue, "action": "requeued" if requeue else "deleted"}


@blp.post(FAILED + "/requeue")
@blp.response(200, JobActionSchema)
@require("admin")
def requeue_failed(queue: str, job_id: str):
    """Put a failed job back on its queue (RQ's requeue; audited)."""
    return _failed_job(queue, job_id, True)


@blp.delete(FAILED)
@blp.response(200, JobActionSchema)
@require("admin")
def delete_failed(queue: str, job_id: str):
    """Remove a failed job and its data (audited)."""
    return _failed_job(queue, job_id, False)


@blp.post("/cache/clear")
@blp.arguments(CacheClearRequestSchema(), location="json")
@blp.response(200, CacheClearedSchema)
@require("admin")
def clear_cache(form):
    """Delete every key of one hot-state area (``app.hot.cache_admin.clear``); pages read the database until
    jobs refill it. Audited with the number of keys removed."""
    from app.hot.cache_admin import clear

    acting = _admin()
    settings, conn = _redis_or_409("Redis cache")
    area = form["area"]
    try:
        removed = clear(conn, settings.redis_prefix, area)
    except ValueError as exc:
        refuse("area", str(exc))
    prefix = f"{settings.redis_prefix}:{area}"
    record(db.session, "cache.clear", Actor.of(acting, client_ip()), target=prefix, after={"keys_removed": removed})
    db.session.commit()
    return {"prefix": prefix, "keys_removed": removed}
