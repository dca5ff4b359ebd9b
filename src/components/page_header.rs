//! The heading of every view, with the document title.

use leptos::prelude::*;
use leptos_meta::Title;

/// A link from a view to the view it belongs to, shown above the heading.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Crumb {
    /// The parent view's name.
    pub label: &'static str,
    /// The parent view's path.
    pub path: &'static str,
}

/// The heading of a view: an optional breadcrumb, the title (which also names the document),
/// and one sentence on what the view shows.
#[component]
pub fn PageHeader(
    /// The view's name; also the document title.
    #[prop(into)]
    title: String,
    /// One sentence on what the view is for.
    #[prop(into)]
    subtitle: String,
    /// The view this one sits under.
    #[prop(optional)]
    parent: Option<Crumb>,
    /// Shown in the heading after the title, e.g. a status badge.
    #[prop(optional)]
    children: Option<Children>,
) -> impl IntoView {
    view! {
        <Title text=title.clone() />
        <header class="plb-page-header">
            {parent.map(|crumb| view! {
                <p class="plb-breadcrumb"><a href=crumb.path>{crumb.label}</a> " / "</p>
            })}
            <h1 class="plb-page-header__title">
                {title}
                {children.map(|extra| view! { " " {extra()} })}
            </h1>
            <p class="plb-page-header__subtitle">{subtitle}</p>
        </header>
    }
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;
    use crate::components::Markup;

    #[test]
    fn a_plain_header_has_only_title_and_subtitle() {
        let owner = Owner::new();
        owner.set();
        leptos_meta::provide_meta_context();
        let html = view! { <PageHeader title="Nodes" subtitle="Every node." /> }
            .to_html()
            .markup();
        assert!(!html.contains("plb-breadcrumb"), "{html}");
        let heading = html
            .split_once("<h1 class=\"plb-page-header__title\">")
            .and_then(|(_, rest)| rest.split_once("</h1>"))
            .map(|(inside, _)| inside)
            .expect("a heading");
        assert_eq!(heading.replace("<!>", ""), "Nodes", "{html}");
        assert!(html.contains("Every node."), "{html}");
    }

    #[test]
    fn a_nested_view_links_back_and_may_add_to_its_heading() {
        let owner = Owner::new();
        owner.set();
        leptos_meta::provide_meta_context();
        let html = view! {
            <PageHeader title="pve1" subtitle="A node." parent=Crumb { label: "Nodes", path: "/nodes" }>
                <span class="plb-status">"online"</span>
            </PageHeader>
        }
        .to_html().markup();
        assert!(html.contains("<a href=\"/nodes\">Nodes</a>"), "{html}");
        assert!(
            html.contains("<span class=\"plb-status\">online</span></h1>"),
            "{html}"
        );
    }
}
