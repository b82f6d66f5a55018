# Declares what the tests need in the CAS server's database: the service pattern of Roster
# (with single logout and the released attributes) and the people who may log in.
# Usage: python3 casproject_setup.py SERVICE_REGEX < people.json
import json
import os
import sys

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "casproject_settings")
django.setup()

from django.contrib.auth.models import User  # noqa: E402
from cas_server.models import ReplaceAttributName, ServicePattern, UserAttributes  # noqa: E402

pattern = ServicePattern.objects.create(name="roster", pattern=sys.argv[1], single_log_out=True)
for name in ["email", "first_name", "last_name", "eduPersonAffiliation", "preferredLanguage"]:
    ReplaceAttributName.objects.create(name=name, service_pattern=pattern)
for person in json.load(sys.stdin):
    User.objects.create_user(person["username"], person["email"], person["password"],
                             first_name=person["first_name"], last_name=person["last_name"])
    u = UserAttributes(username=person["username"])
    u.attributs = person.get("attributes", {})
    u.save()
print("ok")
