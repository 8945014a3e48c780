// How many samples the page holds, over all classes.
() => window.teachkit.classes().reduce((sum, item) => sum + item.count, 0);
