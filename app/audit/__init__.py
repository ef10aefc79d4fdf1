"""The audit log as plain functions: record an event (:mod:`app.audit.log`), search and export
(:mod:`app.audit.query`). Storage is :class:`app.models.audit.AuditEvent`; nothing here commits."""
