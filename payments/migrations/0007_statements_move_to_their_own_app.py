"""The statement models move to the statements app (statements/migrations/0001_initial.py).

Only Django's picture of the models changes: the tables, their rows, constraints and indexes stay
where they are (the models keep db_table = "payments_..."). Nothing is dropped.
"""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('payments', '0006_redundant_indexes'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(
                    model_name='statementchunk',
                    name='run',
                ),
                migrations.DeleteModel(
                    name='MonthlyStatement',
                ),
                migrations.DeleteModel(
                    name='StatementChunk',
                ),
                migrations.DeleteModel(
                    name='StatementRun',
                ),
            ],
            database_operations=[],
        ),
    ]
