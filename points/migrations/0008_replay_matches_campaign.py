"""A replay must match all of a posting's content: points_post() and points_post_batch() also compare the campaign
(and the batch the reversed transfer, which batch lines never have); the same key with another campaign is an
idempotency conflict, not a replay."""

from django.db import migrations

from config.sqlfiles import ApplySql


class Migration(migrations.Migration):
    dependencies = [("points", "0007_reason_en_and_expiry_in_sql")]

    operations = [
        ApplySql("points/sql/points_post.sql", sha256="65631188b5841871e172571ace7e6a2fb60c8386cad592c3d4bacc2fdcee1826"),
        ApplySql(
            "points/sql/points_post_batch.sql", sha256="bad3c3551c4f6a61b211c0632b3d20133ea45a487c14f8d9b708cb210778f74c"
        ),
    ]
