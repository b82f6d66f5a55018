# The attributes of a Django user as the CAS server releases them: the user's fields, plus
# the institutional ones (affiliation, preferred language) stored as UserAttributes rows.
from cas_server.auth import DjangoAuthUser
from cas_server.models import UserAttributes


class AuthUser(DjangoAuthUser):
    def attributs(self):
        attrs = super().attributs()
        attrs.pop("password", None)
        try:
            extra = UserAttributes.objects.get(username=self.username).attributs or {}
        except UserAttributes.DoesNotExist:
            extra = {}
        attrs.update(extra)
        return attrs
