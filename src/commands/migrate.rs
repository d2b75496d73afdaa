//! `hubsync migrate [up|down N|status|fresh]`.

use hubsync_migrations::{Migrator, MigratorTrait};

use crate::cli::{MigrateAction, MigrateArgs};
use crate::roles;

pub async fn run(args: MigrateArgs) -> anyhow::Result<()> {
    let db = roles::connect_db(&args.database_url, false).await?;
    match args.action.unwrap_or(MigrateAction::Up) {
        MigrateAction::Up => {
            hubsync_migrations::migrate(&db).await?;
            println!("migrations applied");
        }
        MigrateAction::Down { n } => {
            Migrator::down(&db, Some(n)).await?;
            println!("rolled back {n} migration(s)");
        }
        MigrateAction::Fresh => {
            Migrator::fresh(&db).await?;
            println!("database recreated");
        }
        MigrateAction::Status => {
            for m in Migrator::get_migration_with_status(&db).await? {
                println!(
                    "{:<9} {}",
                    format!("{:?}", m.status()).to_lowercase(),
                    m.name()
                );
            }
        }
    }
    Ok(())
}
