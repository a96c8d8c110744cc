/**
 * The README and the pages in docs/ link to each other, to sections and to files of the repository: every such link
 * must lead somewhere, so that splitting or renaming a section cannot leave a reader at a dead end.
 */
import * as fs from "fs";
import * as path from "path";

const ROOT = path.join(__dirname, "..");
const PAGES = ["README.md", ...fs.readdirSync(path.join(ROOT, "docs")).filter((f) => f.endsWith(".md")).map((f) => `docs/${f}`)];

/** GitHub's anchor of a heading: lower case, punctuation other than '-' and '_' dropped, spaces as '-'. */
function anchor(heading: string): string {
    return heading
        .trim()
        .toLowerCase()
        .replace(/[^\p{L}\p{N}_\- ]/gu, "")
        .replace(/ /g, "-");
}

/** The lines of a page outside fenced code blocks. */
function prose(text: string): string[] {
    let fenced = false;
    return text.split("\n").filter((line) => {
        if (line.startsWith("```")) {
            fenced = !fenced;
            return false;
        }
        return !fenced;
    });
}

function anchorsOf(page: string): Set<string> {
    const lines = prose(fs.readFileSync(path.join(ROOT, page), "utf8"));
    return new Set(lines.filter((l) => /^#{1,6} /.test(l)).map((l) => anchor(l.replace(/^#+ /, ""))));
}

/** Every relative link of a page: [label](target), without URLs. */
function linksOf(page: string): string[] {
    const links: string[] = [];
    for (const line of prose(fs.readFileSync(path.join(ROOT, page), "utf8"))) {
        // Inline code may hold brackets that are not links.
        const text = line.replace(/`[^`]*`/g, "");
        for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
            if (!/^[a-z][a-z0-9+.-]*:/i.test(m[1])) links.push(m[1]);
        }
    }
    return links;
}

describe("documentation links", () => {
    test("the README is short and points at every page in docs/", () => {
        const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
        expect(readme.length).toBeLessThan(12_000);
        for (const page of PAGES.filter((p) => p.startsWith("docs/"))) expect(readme).toContain(`](${page})`);
        // The two commands a new machine needs.
        expect(readme).toContain("npm ci && npm run up");
        expect(readme).toContain("bash .ci/run");
    });

    test.each(PAGES)("%s: every relative link reaches a file, and every #anchor a heading of its page", (page) => {
        const links = linksOf(page);
        expect(links.length).toBeGreaterThan(0);
        const broken: string[] = [];
        for (const link of links) {
            const [file, hash] = link.split("#", 2);
            const target = file === "" ? page : path.normalize(path.join(path.dirname(page), file));
            if (!fs.existsSync(path.join(ROOT, target))) {
                broken.push(`${link} (no ${target})`);
                continue;
            }
            if (hash !== undefined && target.endsWith(".md") && !anchorsOf(target).has(hash)) broken.push(`${link} (no heading #${hash} in ${target})`);
        }
        expect(broken).toEqual([]);
    });

    test("the link check finds a broken link", () => {
        // The same rules on a made-up page: a missing file and a missing heading are both reported.
        const dir = fs.mkdtempSync(path.join(ROOT, "docs", ".tmp-"));
        try {
            const rel = path.relative(ROOT, path.join(dir, "x.md"));
            fs.writeFileSync(path.join(dir, "x.md"), "# X\n\n## Here\n\n[a](#here) [b](#not-here) [c](nope.md)\n");
            const links = linksOf(rel);
            expect(links).toEqual(["#here", "#not-here", "nope.md"]);
            expect(anchorsOf(rel)).toEqual(new Set(["x", "here"]));
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});
