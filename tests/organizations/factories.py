import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from organizations.models import (
    Organization,
    OrganizationKind,
    Pairing,
    PartyType,
    Person,
    PoliticalStatus,
    Post,
    PostTitle,
    RoleAssignment,
    User,
)


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ["username"]

    username = factory.Sequence(lambda n: f"user{n}")
    full_name = factory.Faker("name", locale="zh_CN")
    password = factory.django.Password("pass-word-123")


class OrganizationFactory(DjangoModelFactory):
    class Meta:
        model = Organization

    code = factory.Sequence(lambda n: f"T{n:05d}")
    name = factory.Sequence(lambda n: f"测试组织{n}")
    kind = OrganizationKind.VILLAGE
    party_type = PartyType.BRANCH
    parent = None
    path = factory.LazyAttribute(lambda o: Organization.path_for(o.code, o.parent))


class PersonFactory(DjangoModelFactory):
    class Meta:
        model = Person

    name = factory.Faker("name", locale="zh_CN")
    phone = factory.Sequence(lambda n: f"139{n:08d}")
    political_status = PoliticalStatus.PARTY_MEMBER
    organization = factory.SubFactory(OrganizationFactory)


class PostFactory(DjangoModelFactory):
    class Meta:
        model = Post

    person = factory.SubFactory(PersonFactory)
    organization = factory.SelfAttribute("person.organization")
    title = PostTitle.SECRETARY
    start_date = factory.Faker("date_between", start_date="-5y", end_date="-1y")


class RoleAssignmentFactory(DjangoModelFactory):
    class Meta:
        model = RoleAssignment

    user = factory.SubFactory(UserFactory)
    organization = factory.SubFactory(OrganizationFactory)
    role = "viewer"


class PairingFactory(DjangoModelFactory):
    class Meta:
        model = Pairing

    year = factory.LazyFunction(lambda: timezone.localdate().year)
    village = factory.SubFactory(OrganizationFactory)
    unit = factory.SubFactory(OrganizationFactory, kind=OrganizationKind.COUNTY_DEPARTMENT)
    responsible = factory.SubFactory(PersonFactory)
