"""Admin helpers shared by both systems: records that only services may write."""

from django.contrib import admin


class ReadOnlyAdmin(admin.ModelAdmin):
    """Viewable, never added, changed or deleted here: services own these records."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyWhenAdmin(admin.ModelAdmin):
    """Editable until `is_locked(obj)` (confirmed, approved, posted); read-only after."""

    def is_locked(self, obj) -> bool:
        raise NotImplementedError

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and not (obj is not None and self.is_locked(obj))

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and not (obj is not None and self.is_locked(obj))
